// The scope's $index_k facts nearest to $embedding, from one SEARCH of the fact index filtered
// inside by the first id that is set (as fragments/scope_facts: the caller applies
// fragments/fact_filter for the other ids, time and validity). A SEARCH filter takes only
// AND-ed equalities, so "this user, any agent" is one guarded branch per first id. Yields f, score.
CALL () {
  WITH 1 AS first WHERE $user_id IS NOT NULL
  MATCH ()-[f:FACT]->()
    SEARCH f IN (VECTOR INDEX fact_embedding FOR $embedding WHERE f.user_id = $user_id LIMIT $index_k)
    SCORE AS score
  RETURN f, score
  UNION ALL
  WITH 1 AS first WHERE $user_id IS NULL AND $agent_id IS NOT NULL
  MATCH ()-[f:FACT]->()
    SEARCH f IN (VECTOR INDEX fact_embedding FOR $embedding WHERE f.agent_id = $agent_id LIMIT $index_k)
    SCORE AS score
  RETURN f, score
  UNION ALL
  WITH 1 AS first WHERE $user_id IS NULL AND $agent_id IS NULL
  MATCH ()-[f:FACT]->()
    SEARCH f IN (VECTOR INDEX fact_embedding FOR $embedding WHERE f.run_id = $run_id LIMIT $index_k)
    SCORE AS score
  RETURN f, score
}
