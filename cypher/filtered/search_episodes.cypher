// search_episodes on a server whose vector indexes filter inside (Neo4j 2026.01+, indexes built
// by `graphmem init`, cypher/schema_vector_filtered): in a scope of more than $scan_max turns,
// the `vector` signal comes from one SEARCH restricted to the scope
// (filtered/fragments/message_search); the `keyword` signal still from the shared full-text
// index with a scaled k. A smaller scope is compared exactly, as on 5.26.
CYPHER 25
// @include fragments/message_scope_size
CALL (scope_size, total_size) {
// @include fragments/episodes_scan
  UNION
  WITH scope_size, total_size WHERE scope_size > $scan_max
  WITH
// @include fragments/shared_k
  AS k
  CALL (k) {
// @include filtered/fragments/message_search
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
