// Benchmark bulk load (bench/ only): facts of synthetic memories between loaded entities.
// Same properties as the facts cypher/write_add.cypher writes, closed ones included.
UNWIND $facts AS r
MATCH (s:Entity {id: r.source_id})
MATCH (t:Entity {id: r.target_id})
CREATE (s)-[f:FACT {id: r.id}]->(t)
SET f.relation = r.relation, f.fact = r.fact,
    f.valid_from = r.valid_from, f.valid_to = r.valid_to, f.invalidated_by = r.invalidated_by,
    f.invalidated_at = r.valid_to, f.created_at = r.valid_from, f.updated_at = r.valid_from,
    f.last_seen = r.valid_from, f.mentions = r.mentions, f.confidence = 1.0, f.message_ids = [],
    f.user_id = r.user_id, f.agent_id = null, f.run_id = null, f.scope_key = r.scope_key
WITH f, r
CALL db.create.setRelationshipVectorProperty(f, 'embedding', r.embedding)
RETURN count(f) AS created
