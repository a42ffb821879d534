// Conflict lookup (conflict_candidates), per row: when this process's search cache holds the
// scope (held), the nearest valid facts it ranked (row.near). Yields s, f, t, score: a branch of
// the caller's UNION.
  WITH row, held WHERE held
  UNWIND row.near AS near
  MATCH (s:Entity)-[f:FACT {id: near.id}]->(t:Entity)
  WHERE f.scope_key = $scope_key AND f.valid_to IS NULL
  RETURN s, f, t, near.score AS score
