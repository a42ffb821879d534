// The scope's $index_k turns nearest to $embedding, from one SEARCH of the message (turn) index
// filtered inside by the first id that is set; the caller applies fragments/message_filter
// for the other ids (a SEARCH filter takes only AND-ed equalities, so "this user, any agent"
// is one guarded branch per first id, as in filtered/fragments/fact_search). Yields m, score.
CALL () {
  WITH 1 AS first WHERE $user_id IS NOT NULL
  MATCH (m:Message)
    SEARCH m IN (VECTOR INDEX message_embedding FOR $embedding WHERE m.user_id = $user_id LIMIT $index_k)
    SCORE AS score
  RETURN m, score
  UNION ALL
  WITH 1 AS first WHERE $user_id IS NULL AND $agent_id IS NOT NULL
  MATCH (m:Message)
    SEARCH m IN (VECTOR INDEX message_embedding FOR $embedding WHERE m.agent_id = $agent_id LIMIT $index_k)
    SCORE AS score
  RETURN m, score
  UNION ALL
  WITH 1 AS first WHERE $user_id IS NULL AND $agent_id IS NULL
  MATCH (m:Message)
    SEARCH m IN (VECTOR INDEX message_embedding FOR $embedding WHERE m.run_id = $run_id LIMIT $index_k)
    SCORE AS score
  RETURN m, score
}
