// A scope of at most $scan_max turns, compared exactly: every turn's cosine and stems
// (search_episodes and its cypher/filtered/ variant). Yields m, vector, keyword.
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
