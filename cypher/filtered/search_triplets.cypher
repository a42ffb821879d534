// search_triplets on a server whose vector indexes filter inside (Neo4j 2026.01+, indexes built
// by `graphmem init`, cypher/schema_vector_filtered): a scope of more than $scan_max facts finds
// its nearest facts by one SEARCH restricted to the scope's first id (filtered/fragments/
// fact_search), so other tenants' facts cannot fill the top k, whatever the scope's share of the
// database. The other ids are filtered after it: a user's other agents or runs still can.
// It asks for $index_k (at least k_min) and keeps $limit: an approximate search for only a few
// misses near neighbours (see filtered/match_entities). A smaller scope is compared exactly,
// as on 5.26 (cypher/search_triplets.cypher).
CYPHER 25
// @include fragments/scope_size
CALL (scope_size, total_size) {
// @include fragments/triplets_scan
  UNION
  WITH scope_size WHERE scope_size > $scan_max
// @include filtered/fragments/fact_search
  MATCH (s:Entity)-[f]->(t:Entity)
  WHERE
// @include fragments/fact_filter
  RETURN s, f, t, score
  ORDER BY score DESC, f.id
  LIMIT $limit
}
RETURN
// @include fragments/fact_projection
AS fact, score
ORDER BY score DESC, fact.id
LIMIT $limit
