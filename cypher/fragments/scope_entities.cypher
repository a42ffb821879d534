// Every entity of a scope (e), found through the index of the first id that is set, and
// filtered on all of them. Yields e, keeping the variables already bound (WITH *).
CALL () {
  MATCH (e:Entity) USING INDEX e:Entity(user_id) WHERE e.user_id = $user_id RETURN e
  UNION ALL
  UNWIND CASE WHEN $user_id IS NULL THEN [$agent_id] ELSE [] END AS agent_id
  MATCH (e:Entity) USING INDEX e:Entity(agent_id) WHERE e.agent_id = agent_id RETURN e
  UNION ALL
  UNWIND CASE WHEN $user_id IS NULL AND $agent_id IS NULL THEN [$run_id] ELSE [] END AS run_id
  MATCH (e:Entity) USING INDEX e:Entity(run_id) WHERE e.run_id = run_id RETURN e
}
WITH *
WHERE
// @include fragments/entity_scope
