// Deletes every entity, fact and message of a scope (each id that is set must match).
// Each kind of node is found through the scope index of the first id that is set.
// The scopes' write clocks go too (they hold the ids); they are not counted as deleted.
CALL () {
  MATCH (clock:GraphmemScope)
  WHERE ($user_id IS NULL OR clock.user_id = $user_id)
    AND ($agent_id IS NULL OR clock.agent_id = $agent_id)
    AND ($run_id IS NULL OR clock.run_id = $run_id)
  DELETE clock
}
CALL () {
// @include fragments/scope_entities
  RETURN e AS n
  UNION ALL
  MATCH (m:Message) USING INDEX m:Message(user_id) WHERE m.user_id = $user_id RETURN m AS n
  UNION ALL
  UNWIND CASE WHEN $user_id IS NULL THEN [$agent_id] ELSE [] END AS agent_id
  MATCH (m:Message) USING INDEX m:Message(agent_id) WHERE m.agent_id = agent_id RETURN m AS n
  UNION ALL
  UNWIND CASE WHEN $user_id IS NULL AND $agent_id IS NULL THEN [$run_id] ELSE [] END AS run_id
  MATCH (m:Message) USING INDEX m:Message(run_id) WHERE m.run_id = run_id RETURN m AS n
}
WITH n
WHERE ($user_id IS NULL OR n.user_id = $user_id)
  AND ($agent_id IS NULL OR n.agent_id = $agent_id)
  AND ($run_id IS NULL OR n.run_id = $run_id)
DETACH DELETE n
RETURN count(n) AS deleted
