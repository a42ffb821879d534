// Shared filter for episode statements: the turn m belongs to the scope and, with $as_of,
// was said by then.
    ($user_id IS NULL OR m.user_id = $user_id)
AND ($agent_id IS NULL OR m.agent_id = $agent_id)
AND ($run_id IS NULL OR m.run_id = $run_id)
AND ($as_of IS NULL OR m.timestamp <= $as_of)
