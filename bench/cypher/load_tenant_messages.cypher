// Benchmark bulk load (bench/tenants.py only): load_messages for many tenants in one batch, each
// row carrying its own scope (a user scope: agent and run ids null).
UNWIND $messages AS m
MATCH (s:Entity {id: m.source_id})-[f:FACT {id: m.fact_id}]->(t:Entity {id: m.target_id})
CREATE (msg:Message {id: m.id})
SET msg.external_id = m.external_id, msg.role = m.role, msg.speaker = m.speaker,
    msg.content = m.content, msg.timestamp = m.timestamp, msg.created_at = m.timestamp,
    msg.stems = m.stems, msg.stemmer = $stemmer, msg.user_id = m.user_id, msg.agent_id = null,
    msg.run_id = null, msg.scope_key = m.scope_key, msg.metadata = m.metadata
SET f.message_ids = [msg.id]
CREATE (msg)-[:MENTIONS]->(s), (msg)-[:MENTIONS]->(t)
WITH msg, m
CALL db.create.setNodeVectorProperty(msg, 'embedding', m.embedding)
RETURN count(msg) AS created
