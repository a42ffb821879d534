// One hop of entity-centric expansion from frontier node n (carrying its seed weight): the
// facts around n, at most $fanout (most similar to the query first) so a hub cannot blow
// up the query, with the node at their other end for the next hop.
// Equal scores rank by id, as the scope cache's ranking (graphmem/cache/rank.py) does.
CALL (n) {
  MATCH (n)-[f:FACT]-(:Entity)
  WITH f, startNode(f) AS s, endNode(f) AS t
  WHERE
// @include fragments/fact_filter
  WITH s, f, t, vector.similarity.cosine(f.embedding, $embedding) AS similarity
  ORDER BY similarity DESC, f.id
  LIMIT $fanout
  RETURN s, f, t, similarity
}
RETURN
// @include fragments/fact_projection
AS fact, similarity, CASE WHEN s = n THEN t.id ELSE s.id END AS next_id, n.id AS from_id, weight
