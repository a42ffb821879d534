// Every turn of a scope (m), found through the index of the first id that is set (hinted, as
// in scope_facts); the caller applies fragments/message_filter for the other ids.
CALL () {
  MATCH (m:Message) USING INDEX m:Message(user_id) WHERE m.user_id = $user_id RETURN m
  UNION ALL
  UNWIND CASE WHEN $user_id IS NULL THEN [$agent_id] ELSE [] END AS agent_id
  MATCH (m:Message) USING INDEX m:Message(agent_id) WHERE m.agent_id = agent_id RETURN m
  UNION ALL
  UNWIND CASE WHEN $user_id IS NULL AND $agent_id IS NULL THEN [$run_id] ELSE [] END AS run_id
  MATCH (m:Message) USING INDEX m:Message(run_id) WHERE m.run_id = run_id RETURN m
}
