// Node matcher lookup, one round trip for all entities of an add: for each extracted
// entity, the node with the same normalised name in the scope (exact: its id is derived
// from scope and normalised name, so the lookup is a unique-index seek), and the nearest
// nodes of the scope by name embedding. The vector index is global, so it is asked for
// $k neighbours and those outside the scope are dropped.
UNWIND $rows AS row
CALL (row) {
  OPTIONAL MATCH (e:Entity {id: row.id})
  RETURN e {.id, .name, .normalized, .type} AS exact
  LIMIT 1
}
CALL (row) {
  CALL db.index.vector.queryNodes('entity_embedding', $k, row.embedding) YIELD node, score
  WHERE node.scope_key = $scope_key
  RETURN collect(node {.id, .name, .normalized, .type, score: score})[..$keep] AS near
}
RETURN row.i AS i, exact, near
