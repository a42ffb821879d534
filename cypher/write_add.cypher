// Applies the whole decision set of one add in one statement (one round trip, one
// transaction). Each block is a unit subquery, so an empty list just skips it.
// Labels and relation names arrive as parameters only; $(...) sets a label from a value
// that was validated against LABEL_PATTERN, never spliced into this text.
// Embeddings are stored as 32-bit float arrays (db.create.set*VectorProperty; SET stores 64-bit
// ones): half the bytes, and a search reads the scope's embeddings about a third faster.
// Optimistic concurrency across processes: an add that matched entities claims its scope's
// clock first ($expected_version: the version its reads saw). Racing writers of one scope
// queue on the clock's lock, and each then reads the version the previous one committed. A
// stale add writes nothing (no row returned): the caller rolls back and matches again. An
// add of turns only ($expected_version null) checks nothing, but still advances the clock's
// revision, which every fact, turn and new entity it writes or changes is stamped with (`revision`):
// a search's scope cache reloads only what changed since the revision it holds (or, in the
// process that wrote, folds the write in from these parameters: graphmem/cache/writes.py).
CALL () {
// @include fragments/scope_clock
  WITH clock, clock.version AS seen
  SET clock.version = CASE WHEN $expected_version IS NULL THEN seen ELSE seen + 1 END,
      clock.revision = coalesce(clock.revision, 0) + 1
  RETURN seen, clock.revision AS revision, clock.epoch AS epoch
}
WITH seen, revision, epoch WHERE $expected_version IS NULL OR seen = $expected_version
CALL (revision) {
  UNWIND $messages AS m
  MERGE (msg:Message {id: m.id})
  ON CREATE SET msg.external_id = m.external_id, msg.role = m.role, msg.speaker = m.speaker,
                msg.content = m.content, msg.timestamp = m.timestamp, msg.created_at = $now,
                msg.user_id = $user_id, msg.agent_id = $agent_id, msg.run_id = $run_id,
                msg.scope_key = $scope_key, msg.metadata = m.metadata, msg.stems = m.stems,
                msg.stemmer = $stemmer, msg.revision = revision
  WITH msg, m WHERE msg.embedding IS NULL AND m.embedding IS NOT NULL
  CALL db.create.setNodeVectorProperty(msg, 'embedding', m.embedding)
}
CALL (revision) {
  UNWIND $entities AS e
  MERGE (n:Entity {id: e.id})
  ON CREATE SET n.name = e.name, n.normalized = e.normalized, n.type = e.type,
                n.created_at = $now, n.mentions = 0, n.revision = revision,
                n.user_id = $user_id, n.agent_id = $agent_id, n.run_id = $run_id,
                n.scope_key = $scope_key
  SET n.updated_at = $now, n.mentions = n.mentions + 1,
      n.type = CASE WHEN n.type = 'Entity' THEN e.type ELSE n.type END
  // the attributes an ontology declares (names checked by graphmem/write/plan.py), latest value wins
  SET n += e.properties
  SET n:$(n.type)
  WITH n, e
  CALL (n, e, revision) {
    WITH n, e WHERE n.embedding IS NULL AND e.embedding IS NOT NULL
    SET n.revision = revision
    WITH n, e
    CALL db.create.setNodeVectorProperty(n, 'embedding', e.embedding)
  }
  UNWIND e.message_ids AS message_id
  MATCH (msg:Message {id: message_id})
  MERGE (msg)-[:MENTIONS]->(n)
}
CALL (revision) {
  UNWIND $invalidations AS inv
  MATCH ()-[f:FACT {id: inv.id}]->()
  WHERE f.valid_to IS NULL
  SET f.valid_to = inv.valid_to, f.invalidated_by = inv.invalidated_by, f.invalidated_at = $now,
      f.updated_at = $now, f.revision = revision
}
CALL (revision) {
  UNWIND $new_facts AS nf
  MATCH (s:Entity {id: nf.source_id}), (t:Entity {id: nf.target_id})
  CREATE (s)-[f:FACT {id: nf.id}]->(t)
  SET f.relation = nf.relation, f.fact = nf.fact,
      f.valid_from = nf.valid_from, f.valid_to = null, f.created_at = $now, f.updated_at = $now,
      f.last_seen = $now, f.mentions = 1, f.confidence = nf.confidence,
      f.message_ids = nf.message_ids, f.user_id = $user_id, f.agent_id = $agent_id,
      f.run_id = $run_id, f.scope_key = $scope_key, f.revision = revision
  WITH f, nf
  CALL db.create.setRelationshipVectorProperty(f, 'embedding', nf.embedding)
}
CALL (revision) {
  UNWIND $updates AS up
  MATCH ()-[f:FACT {id: up.id}]->()
  SET f.relation = up.relation, f.fact = up.fact,
      f.confidence = up.confidence, f.updated_at = $now, f.last_seen = $now,
      f.mentions = f.mentions + 1, f.revision = revision,
      f.message_ids = f.message_ids + [x IN up.message_ids WHERE NOT x IN f.message_ids]
  WITH f, up
  CALL db.create.setRelationshipVectorProperty(f, 'embedding', up.embedding)
}
CALL (revision) {
  UNWIND $restated AS rs
  MATCH ()-[f:FACT {id: rs.id}]->()
  SET f.mentions = f.mentions + 1, f.last_seen = $now, f.updated_at = $now, f.revision = revision,
      f.message_ids = f.message_ids + [x IN rs.message_ids WHERE NOT x IN f.message_ids]
}
// the clock as this write left it: the search cache of this process folds the write in
RETURN $scope_clock AS clock, epoch, revision
