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
// @include fragments/episodes_scan
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
// @include fragments/episodes_keyword
  }
  WITH m, max(vector) AS vector, max(keyword) AS keyword
  RETURN m, vector, keyword
}
RETURN
// @include fragments/episode_projection
AS episode, vector, keyword
