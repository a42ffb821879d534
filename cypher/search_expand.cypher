// One hop of entity-centric expansion: the facts around each frontier node, at most
// $fanout per node (most similar to the query first) so a hub cannot blow up the query.
UNWIND $frontier AS node_id
MATCH (n:Entity {id: node_id})
CALL (n) {
  MATCH (n)-[f:FACT]-(:Entity)
  WITH f, startNode(f) AS s, endNode(f) AS t
  WHERE
// @include fragments/fact_filter
  WITH s, f, t, vector.similarity.cosine(f.embedding, $embedding) AS similarity
  ORDER BY similarity DESC
  LIMIT $fanout
  RETURN s, f, t, similarity
}
RETURN
// @include fragments/fact_projection
AS fact, similarity, CASE WHEN s = n THEN t.id ELSE s.id END AS next_id
