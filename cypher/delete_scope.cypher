// Deletes every entity, fact and message of a scope (each id that is set must match).
MATCH (n)
WHERE (n:Entity OR n:Message)
  AND ($user_id IS NULL OR n.user_id = $user_id)
  AND ($agent_id IS NULL OR n.agent_id = $agent_id)
  AND ($run_id IS NULL OR n.run_id = $run_id)
DETACH DELETE n
RETURN count(n) AS deleted
