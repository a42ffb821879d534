// Node matcher (match_entities): when this process's search cache holds the scope (held), the
// nearest nodes it ranked (row.near). Each CALL of the matcher yields exactly one row (an
// aggregate without grouping keys), [] when skipped; an entity whose name is already a node of
// the scope needs no neighbours (the matcher takes the exact node first). Yields ranked.
CALL (row, held, exact) {
  WITH row WHERE held AND exact IS NULL
  UNWIND row.near AS near
  MATCH (e:Entity {id: near.id})
  WHERE e.scope_key = $scope_key
  WITH e, near.score AS score
  ORDER BY score DESC
  RETURN collect(e {.id, .name, .normalized, .type, score: score}) AS ranked
}
