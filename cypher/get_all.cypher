// The facts of a scope (each id that is set must match), oldest first. Found through the
// scope index of the first id that is set (fragments/scope_facts), then filtered on all.
// @include fragments/scope_facts
WITH s, f, t
WHERE ($user_id IS NULL OR f.user_id = $user_id)
  AND ($agent_id IS NULL OR f.agent_id = $agent_id)
  AND ($run_id IS NULL OR f.run_id = $run_id)
  AND ($include_invalidated OR f.valid_to IS NULL)
RETURN f {.*, embedding: null, source: s.name, source_type: s.type, source_id: s.id,
          target: t.name, target_type: t.type, target_id: t.id} AS fact
ORDER BY f.valid_from, f.created_at, f.id
LIMIT $limit
