// The write clocks of every scope a read of ($user_id, $agent_id, $run_id) sees (each id that
// is set must match), found through the index of the first id that is set, as one ordered
// list of [key, epoch, revision]: the scope's state as a search's scope cache knows it.
// Yields `clocks`.
CALL () {
  CALL () {
    MATCH (c:GraphmemScope) USING INDEX c:GraphmemScope(user_id) WHERE c.user_id = $user_id RETURN c
    UNION ALL
    UNWIND CASE WHEN $user_id IS NULL THEN [$agent_id] ELSE [] END AS agent_id
    MATCH (c:GraphmemScope) USING INDEX c:GraphmemScope(agent_id) WHERE c.agent_id = agent_id RETURN c
    UNION ALL
    UNWIND CASE WHEN $user_id IS NULL AND $agent_id IS NULL THEN [$run_id] ELSE [] END AS run_id
    MATCH (c:GraphmemScope) USING INDEX c:GraphmemScope(run_id) WHERE c.run_id = run_id RETURN c
  }
  WITH c
  WHERE ($user_id IS NULL OR c.user_id = $user_id)
    AND ($agent_id IS NULL OR c.agent_id = $agent_id)
    AND ($run_id IS NULL OR c.run_id = $run_id)
  WITH c ORDER BY c.key
  RETURN collect([c.key, c.epoch, coalesce(c.revision, 0)]) AS clocks
}
