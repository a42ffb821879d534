// One hop of associative expansion from node n, reached with weight w (its seed's weight):
// the $fanout facts around n nearest to the query, each as an edge map with the node at its
// other end, w, and the fact's cosine to each aspect word in $aspects (computed for the kept
// facts only: a hub's hundreds of facts cost one cosine each), so a hub costs $fanout edges.
CALL (n, w) {
  MATCH (n)-[f:FACT]-(next:Entity)
  WITH f, next, startNode(f) AS s, endNode(f) AS t
  WHERE
// @include fragments/fact_filter
  WITH f, next, s, t, vector.similarity.cosine(f.embedding, $embedding) AS sim
  ORDER BY sim DESC
  LIMIT $fanout
  WITH f, next, s, t, sim, [a IN $aspects | vector.similarity.cosine(f.embedding, a)] AS aspect_sims
  RETURN {f: f, s: s, t: t, next: next, sim: sim, aspect_sims: aspect_sims, w: w,
          relevance: reduce(best = sim, x IN aspect_sims | CASE WHEN x > best THEN x ELSE best END)} AS edge
}
