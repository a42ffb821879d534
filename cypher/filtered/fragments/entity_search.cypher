// The scope's $index_k entities nearest to $embedding, from one SEARCH of the entity index
// filtered inside by the first id that is set; the caller applies fragments/entity_scope
// for the other ids (a SEARCH filter takes only AND-ed equalities, so "this user, any agent"
// is one guarded branch per first id, as in filtered/fragments/fact_search). Yields e, score.
CALL () {
  WITH 1 AS first WHERE $user_id IS NOT NULL
  MATCH (e:Entity)
    SEARCH e IN (VECTOR INDEX entity_embedding FOR $embedding WHERE e.user_id = $user_id LIMIT $index_k)
    SCORE AS score
  RETURN e, score
  UNION ALL
  WITH 1 AS first WHERE $user_id IS NULL AND $agent_id IS NOT NULL
  MATCH (e:Entity)
    SEARCH e IN (VECTOR INDEX entity_embedding FOR $embedding WHERE e.agent_id = $agent_id LIMIT $index_k)
    SCORE AS score
  RETURN e, score
  UNION ALL
  WITH 1 AS first WHERE $user_id IS NULL AND $agent_id IS NULL
  MATCH (e:Entity)
    SEARCH e IN (VECTOR INDEX entity_embedding FOR $embedding WHERE e.run_id = $run_id LIMIT $index_k)
    SCORE AS score
  RETURN e, score
}
