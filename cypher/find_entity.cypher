// Entities of a scope with this normalised name.
MATCH (e:Entity {normalized: $normalized})
WHERE ($user_id IS NULL OR e.user_id = $user_id)
  AND ($agent_id IS NULL OR e.agent_id = $agent_id)
  AND ($run_id IS NULL OR e.run_id = $run_id)
RETURN e.id AS id
