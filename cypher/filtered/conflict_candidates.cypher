// conflict_candidates on a server whose vector indexes filter inside (Neo4j 2026.01+, indexes
// built by `graphmem init` with the scope keys and valid_to as filter properties,
// cypher/schema_vector_filtered): the nearest valid facts of the scope come from one SEARCH of
// the fact index restricted to the scope's key, so the top k holds the scope's own facts however
// many other tenants hold similar sentences. Otherwise as cypher/conflict_candidates.cypher.
CYPHER 25
OPTIONAL MATCH (clock:GraphmemScope {key: $scope_clock})
WITH
// @include fragments/held_clock
  AS held
UNWIND $rows AS row
CALL (row, held) {
// @include fragments/conflict_graph
  UNION
  WITH row, held WHERE NOT held
  MATCH ()-[f:FACT]->()
    SEARCH f IN (
      VECTOR INDEX fact_embedding FOR row.embedding WHERE f.scope_key = $scope_key AND f.valid_to IS NULL LIMIT $k
    ) SCORE AS score
  WITH f, score WHERE score >= $min_score
  MATCH (s:Entity)-[f]->(t:Entity)
  RETURN s, f, t, score
  UNION
// @include fragments/conflict_held
}
RETURN row.i AS i, held, collect({
  fact:
// @include fragments/fact_projection
  , score: score
}) AS candidates
