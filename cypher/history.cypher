// The life of a fact or of an entity: for a fact id, every fact with the same source and
// relation, plus the facts it replaced or was replaced by; for an entity id, every fact
// touching it. Invalidated facts included, oldest first.
// Every branch starts from an indexed id and walks the edges of at most two nodes (a
// replaced fact shares its source or target with the fact that replaced it), so the cost
// does not grow with the database.
OPTIONAL MATCH (a:Entity)-[start:FACT {id: $id}]->(b:Entity)
OPTIONAL MATCH (entity:Entity {id: $id})
CALL (start, a, b, entity) {
  WITH entity WHERE entity IS NOT NULL
  MATCH (entity)-[f:FACT]-(:Entity)
  RETURN f
  UNION
  WITH start, a WHERE start IS NOT NULL
  MATCH (a)-[f:FACT]->(:Entity)
  WHERE f.relation = start.relation OR f.invalidated_by = start.id OR f.id = start.invalidated_by
  RETURN f
  UNION
  WITH start, b WHERE start IS NOT NULL
  MATCH (b)-[f:FACT]-(:Entity)
  WHERE f.invalidated_by = start.id OR f.id = start.invalidated_by
  RETURN f
  UNION
  WITH start WHERE start IS NOT NULL AND start.invalidated_by IS NOT NULL
  MATCH (:Entity)-[f:FACT {id: start.invalidated_by}]->(:Entity)
  RETURN f
}
WITH DISTINCT f
MATCH (s:Entity)-[f]->(t:Entity)
RETURN f {.*, embedding: null, source: s.name, source_type: s.type, source_id: s.id,
          target: t.name, target_type: t.type, target_id: t.id} AS fact
ORDER BY f.valid_from, f.created_at
