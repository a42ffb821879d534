// Benchmark bulk load (bench/ only): one conversation turn per loaded fact, in one batch.
// Same properties as the messages cypher/write_add.cypher writes (embedding and stems
// included); each turn MENTIONS the fact's two ends and is the one entry of the fact's message_ids.
UNWIND $messages AS m
MATCH (s:Entity {id: m.source_id})-[f:FACT {id: m.fact_id}]->(t:Entity {id: m.target_id})
CREATE (msg:Message {id: m.id})
SET msg.external_id = m.external_id, msg.role = m.role, msg.speaker = m.speaker,
    msg.content = m.content, msg.timestamp = m.timestamp, msg.created_at = m.timestamp,
    msg.stems = m.stems, msg.stemmer = $stemmer, msg.user_id = $user_id, msg.agent_id = $agent_id,
    msg.run_id = $run_id, msg.scope_key = $scope_key, msg.metadata = m.metadata
SET f.message_ids = [msg.id]
CREATE (msg)-[:MENTIONS]->(s), (msg)-[:MENTIONS]->(t)
WITH msg, m
CALL db.create.setNodeVectorProperty(msg, 'embedding', m.embedding)
RETURN count(msg) AS created
