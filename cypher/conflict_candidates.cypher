// Conflict detector lookup, one round trip for all triplets of an add: the stored valid
// facts a new triplet may contradict: those leaving the same source node, those between
// the same two nodes (either way), and the nearest facts of the scope by fact embedding.
// Of the source's facts, only those the detector may keep are sent: of the new triplet's
// relation or one similar to it (row.relations), between the same two nodes, or of a relation
// the detector has not judged yet (not in $known). A speaker's node holds hundreds of facts,
// and sending them all cost ~12 ms of a ~20 ms lookup.
// The nearest facts come from this process's search cache when it holds the scope (row.near:
// ids and scores of valid facts, graphmem/cache/near.py), used only if the scope's clock is
// still at the epoch and revision the cache holds ($held_epoch, $held_revision); otherwise
// from the shared relationship vector index.
OPTIONAL MATCH (clock:GraphmemScope {key: $scope_clock})
WITH
// @include fragments/held_clock
  AS held
UNWIND $rows AS row
CALL (row, held) {
// @include fragments/conflict_graph
  UNION
  WITH row, held WHERE NOT held
  CALL db.index.vector.queryRelationships('fact_embedding', $k, row.embedding) YIELD relationship AS f, score
  WHERE f.scope_key = $scope_key AND f.valid_to IS NULL AND score >= $min_score
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
