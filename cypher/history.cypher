// The life of a fact or of an entity: for a fact id, every fact with the same source and
// predicate, plus the facts it replaced or was replaced by; for an entity id, every fact
// touching it. Invalidated facts included, oldest first.
OPTIONAL MATCH (:Entity)-[start:FACT {id: $id}]->(:Entity)
OPTIONAL MATCH (entity:Entity {id: $id})
CALL (start, entity) {
  MATCH (s:Entity)-[f:FACT]->(t:Entity)
  WHERE (entity IS NOT NULL AND (s = entity OR t = entity))
     OR (start IS NOT NULL AND (
          (startNode(f) = startNode(start) AND f.predicate = start.predicate)
          OR f.invalidated_by = start.id OR start.invalidated_by = f.id OR f = start))
  RETURN DISTINCT s, f, t
}
RETURN f {.*, embedding: null, source: s.name, source_type: s.type, source_id: s.id,
          target: t.name, target_type: t.type, target_id: t.id} AS fact
ORDER BY f.valid_from, f.created_at
