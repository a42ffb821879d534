// Node matcher (match_entities): the node with the extracted entity's normalised name in the
// scope, by its id (derived from scope and name: a unique-index seek). Yields exact (or null).
CALL (row) {
  OPTIONAL MATCH (e:Entity {id: row.id})
  RETURN e {.id, .name, .normalized, .type} AS exact
  LIMIT 1
}
