// Entities of a scope with this normalised name (through the scope index, not a label scan).
// @include fragments/scope_entities
  AND e.normalized = $normalized
RETURN e.id AS id
