// match_entities on a server whose vector indexes filter inside (Neo4j 2026.01+, indexes built
// by `graphmem init` with the scope keys as filter properties, cypher/schema_vector_filtered):
// the nearest nodes of the scope come from one SEARCH of the entity index restricted to the
// scope's key, so other tenants' look-alike names cannot crowd them out of the top k, whatever
// the scope's share of the database. No exact scan, no k scaled by the scope's size.
// The index is asked for the matcher's k ($want) and the best $keep are kept, as on 5.26: an
// approximate (HNSW) search for only $keep missed the exact second nearest among 5,000 nodes
// of one scope.
// Otherwise as cypher/match_entities.cypher: the exact node first, the search cache's ranking
// when it holds the scope unchanged, and the scope's write clock read before the entities.
CYPHER 25
OPTIONAL MATCH (clock:GraphmemScope {key: $scope_clock})
WITH coalesce(clock.version, 0) AS scope_version,
// @include fragments/held_clock
  AS held
UNWIND $rows AS row
// @include fragments/match_exact
// @include fragments/match_held
CALL (row, held, exact) {
  WITH row WHERE NOT held AND exact IS NULL
  MATCH (e:Entity)
    SEARCH e IN (VECTOR INDEX entity_embedding FOR row.embedding WHERE e.scope_key = $scope_key LIMIT $want)
    SCORE AS score
  WITH e, score
  ORDER BY score DESC
  LIMIT $keep
  RETURN collect(e {.id, .name, .normalized, .type, score: score}) AS indexed
}
RETURN row.i AS i, exact, ranked + indexed AS near, scope_version, held
