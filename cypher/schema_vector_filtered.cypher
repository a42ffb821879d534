// The vector indexes on Neo4j 2026.01+ (Cypher 25), with filter properties: the scope keys (and
// a fact's valid_to), so a SEARCH ... WHERE e.scope_key = $scope_key finds a scope's k nearest
// inside the index however many tenants share it (cypher/filtered/). Applied by `graphmem init`
// in place of cypher/schema_vector.cypher; indexes built without filters are dropped and built
// again (graphmem/store/schema.py). Quantization off: the 2026 line quantizes new indexes to
// one bit per dimension by default, which lost recall on our measurements; a float index of
// 384 dimensions takes ~1.5 KB per item, as on 5.26.
CYPHER 25 CREATE VECTOR INDEX entity_embedding IF NOT EXISTS FOR (e:Entity) ON e.embedding
WITH [e.scope_key, e.user_id, e.agent_id, e.run_id]
OPTIONS {indexConfig: {`vector.dimensions`: $dim, `vector.similarity_function`: 'cosine',
                       `vector.quantization.enabled`: false}};
CYPHER 25 CREATE VECTOR INDEX fact_embedding IF NOT EXISTS FOR ()-[f:FACT]-() ON f.embedding
WITH [f.scope_key, f.user_id, f.agent_id, f.run_id, f.valid_to]
OPTIONS {indexConfig: {`vector.dimensions`: $dim, `vector.similarity_function`: 'cosine',
                       `vector.quantization.enabled`: false}};
CYPHER 25 CREATE VECTOR INDEX message_embedding IF NOT EXISTS FOR (m:Message) ON m.embedding
WITH [m.scope_key, m.user_id, m.agent_id, m.run_id]
OPTIONS {indexConfig: {`vector.dimensions`: $dim, `vector.similarity_function`: 'cosine',
                       `vector.quantization.enabled`: false}};
