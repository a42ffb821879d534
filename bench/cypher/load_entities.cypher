// Benchmark bulk load (bench/ only): entities of synthetic memories, created in one batch.
// Same properties as the entities cypher/write_add.cypher writes; the ids are fresh.
UNWIND $entities AS e
CREATE (n:Entity {id: e.id})
SET n.name = e.name, n.normalized = e.normalized, n.type = e.type,
    n.created_at = e.created_at, n.updated_at = e.created_at, n.mentions = e.mentions,
    n.user_id = e.user_id, n.agent_id = null, n.run_id = null, n.scope_key = e.scope_key
SET n:$(e.type)
WITH n, e
CALL db.create.setNodeVectorProperty(n, 'embedding', e.embedding)
RETURN count(n) AS created
