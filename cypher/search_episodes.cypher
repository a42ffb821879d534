// Episodic recall: the scope's stored turns (:Message) for the query, by two signals that
// graphmem fuses by rank: `vector` (cosine of the turn's embedding to the query's) and
// `keyword` (the query's stems found in the turn, each weighted by its inverse document
// frequency within the scope). Each signal sends its own top $limit.
// A scope of at most $scan_max turns is scanned exactly: every turn is compared, and stems
// are matched in m.stems (' stem stem ... ', graphmem/_terms.py). A larger scope goes through
// the shared message_embedding / message_text indexes with k scaled by its share of all turns.
// $stems: the query's stems; $lucene: the query's words OR-ed (the english analyzer stems them).
// @include fragments/message_scope_size
CALL (scope_size, total_size) {
  WITH scope_size WHERE scope_size <= $scan_max
// @include fragments/scope_messages
  WITH m
  WHERE m.embedding IS NOT NULL AND
// @include fragments/message_filter
  WITH m, vector.similarity.cosine(m.embedding, $embedding) AS vector,
       [w IN $stems WHERE m.stems CONTAINS (' ' + w + ' ')] AS matched
  WITH collect({m: m, vector: vector, matched: matched}) AS rows
  WITH rows, size(rows) AS n, [w IN $stems | size([r IN rows WHERE w IN r.matched])] AS df
  WITH n, [r IN rows | {m: r.m, vector: r.vector, keyword: reduce(acc = 0.0, i IN range(0, size($stems) - 1) |
         acc + CASE WHEN $stems[i] IN r.matched THEN log(1.0 + toFloat(n) / df[i]) ELSE 0.0 END)}] AS rows
  CALL (rows) {
    UNWIND rows AS r
    WITH r ORDER BY r.vector DESC LIMIT $limit
    RETURN r.m AS m, r.vector AS vector, r.keyword AS keyword
    UNION
    UNWIND rows AS r
    WITH r WHERE r.keyword > 0
    WITH r ORDER BY r.keyword DESC LIMIT $limit
    RETURN r.m AS m, r.vector AS vector, r.keyword AS keyword
  }
  RETURN m, vector, keyword
  UNION
  WITH scope_size, total_size WHERE scope_size > $scan_max
  WITH
// @include fragments/shared_k
  AS k
  CALL (k) {
    CALL db.index.vector.queryNodes('message_embedding', k, $embedding) YIELD node AS m, score
    WITH m, score
    WHERE
// @include fragments/message_filter
    RETURN m, score AS vector, null AS keyword
    ORDER BY vector DESC
    LIMIT $limit
    UNION
    WITH k WHERE $lucene IS NOT NULL
    // the updates of commits before this one, still queued for the full-text index (schema.cypher)
    CALL db.index.fulltext.awaitEventuallyConsistentIndexRefresh()
    CALL db.index.fulltext.queryNodes('message_text', $lucene, {limit: k}) YIELD node AS m, score
    WITH m, score
    WHERE
// @include fragments/message_filter
    RETURN m, null AS vector, score AS keyword
    ORDER BY keyword DESC
    LIMIT $limit
  }
  WITH m, max(vector) AS vector, max(keyword) AS keyword
  RETURN m, vector, keyword
}
RETURN
// @include fragments/episode_projection
AS episode, vector, keyword
