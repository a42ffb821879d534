// Entities a query is about, without an LLM: nearest entity names to the query embedding,
// and entities whose name matches the query's words in the full-text index.
CALL () {
  CALL db.index.vector.queryNodes('entity_embedding', $k, $embedding) YIELD node, score
  WHERE score >= $min_vector_score
  RETURN node, score
  UNION
  CALL db.index.fulltext.queryNodes('entity_name', $lucene, {limit: $k}) YIELD node, score
  RETURN node, 1.0 AS score
}
WITH node, max(score) AS score
WHERE ($user_id IS NULL OR node.user_id = $user_id)
  AND ($agent_id IS NULL OR node.agent_id = $agent_id)
  AND ($run_id IS NULL OR node.run_id = $run_id)
RETURN node.id AS id, node.name AS name, score
ORDER BY score DESC
LIMIT $seeds
