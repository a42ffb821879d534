// Shared filter: entity e belongs to the scope (each id that is set must match).
    ($user_id IS NULL OR e.user_id = $user_id)
AND ($agent_id IS NULL OR e.agent_id = $agent_id)
AND ($run_id IS NULL OR e.run_id = $run_id)
