// Shared filter for search statements: scope, validity in time, entity types, relation names.
// Expects f (FACT), s and t (its end nodes) in scope.
    ($user_id IS NULL OR f.user_id = $user_id)
AND ($agent_id IS NULL OR f.agent_id = $agent_id)
AND ($run_id IS NULL OR f.run_id = $run_id)
AND CASE
      WHEN $as_of IS NOT NULL THEN f.valid_from <= $as_of AND (f.valid_to IS NULL OR f.valid_to > $as_of)
      ELSE $include_invalidated OR f.valid_to IS NULL
    END
AND ($types IS NULL OR s.type IN $types OR t.type IN $types)
AND ($relations IS NULL OR f.relation IN $relations)
