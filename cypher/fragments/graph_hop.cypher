// One hop of associative expansion from node n, reached with weight w (its seed's weight):
// the $fanout facts around n most relevant to the query (the best of the fact's cosine to the
// query and to each aspect word in $aspects), each as an edge map with the node at its other
// end and w, so a hub costs $fanout edges, not all.
CALL (n, w) {
  MATCH (n)-[f:FACT]-(next:Entity)
  WITH f, next, startNode(f) AS s, endNode(f) AS t
  WHERE
// @include fragments/fact_filter
  WITH f, next, s, t, vector.similarity.cosine(f.embedding, $embedding) AS sim,
       [a IN $aspects | vector.similarity.cosine(f.embedding, a)] AS aspect_sims
  WITH f, next, s, t, sim, aspect_sims,
       reduce(best = sim, x IN aspect_sims | CASE WHEN x > best THEN x ELSE best END) AS relevance
  ORDER BY relevance DESC
  LIMIT $fanout
  RETURN {f: f, s: s, t: t, next: next, sim: sim, aspect_sims: aspect_sims, relevance: relevance, w: w} AS edge
}
