// Every fact of a scope with its end nodes (s, f, t), found through the index of the first
// id that is set (hinted: on a small graph the planner would rather scan every entity);
// the caller still applies fragments/fact_filter for the other ids.
CALL () {
  MATCH (s:Entity)-[f:FACT]->(t:Entity) USING INDEX f:FACT(user_id) WHERE f.user_id = $user_id RETURN s, f, t
  UNION ALL
  UNWIND CASE WHEN $user_id IS NULL THEN [$agent_id] ELSE [] END AS agent_id
  MATCH (s:Entity)-[f:FACT]->(t:Entity) USING INDEX f:FACT(agent_id) WHERE f.agent_id = agent_id RETURN s, f, t
  UNION ALL
  UNWIND CASE WHEN $user_id IS NULL AND $agent_id IS NULL THEN [$run_id] ELSE [] END AS run_id
  MATCH (s:Entity)-[f:FACT]->(t:Entity) USING INDEX f:FACT(run_id) WHERE f.run_id = run_id RETURN s, f, t
}
