// Semantic triplet top-K: the facts of the scope nearest to the query embedding.
// The vector index is shared by every scope and Neo4j 5 cannot filter inside it: a top-k
// over it, filtered afterwards, starves a scope holding a small share of the data. So a
// scope of at most $scan_max facts is scanned exactly (cosine on each of its facts, found
// through the scope's property index); a larger one asks the index for k neighbours, k
// scaled by the scope's share of all facts (fragments/shared_k, $want = $limit * 3).
// Equal scores rank by id, as the scope cache's ranking (graphmem/cache/rank.py) does.
// @include fragments/scope_size
CALL (scope_size, total_size) {
// @include fragments/triplets_scan
  UNION
  WITH scope_size, total_size WHERE scope_size > $scan_max
  WITH
// @include fragments/shared_k
  AS k
  CALL db.index.vector.queryRelationships('fact_embedding', k, $embedding) YIELD relationship AS f, score
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
