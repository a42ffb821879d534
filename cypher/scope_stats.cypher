// Counts of a scope's entities, valid and invalidated facts, and messages.
CALL () {
  MATCH (e:Entity)
  WHERE ($user_id IS NULL OR e.user_id = $user_id) AND ($agent_id IS NULL OR e.agent_id = $agent_id)
    AND ($run_id IS NULL OR e.run_id = $run_id)
  RETURN count(e) AS entities
}
CALL () {
  MATCH ()-[f:FACT]->()
  WHERE ($user_id IS NULL OR f.user_id = $user_id) AND ($agent_id IS NULL OR f.agent_id = $agent_id)
    AND ($run_id IS NULL OR f.run_id = $run_id)
  RETURN count(CASE WHEN f.valid_to IS NULL THEN 1 END) AS valid_facts,
         count(CASE WHEN f.valid_to IS NOT NULL THEN 1 END) AS invalidated_facts
}
CALL () {
  MATCH (m:Message)
  WHERE ($user_id IS NULL OR m.user_id = $user_id) AND ($agent_id IS NULL OR m.agent_id = $agent_id)
    AND ($run_id IS NULL OR m.run_id = $run_id)
  RETURN count(m) AS messages
}
RETURN entities, valid_facts, invalidated_facts, messages
