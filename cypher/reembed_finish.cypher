// Ends a re-embedding (graphmem/store/reembed.py) once every vector is the target embedder's and the
// vector indexes are online at its dimension: records the embedder the memory now holds (as
// schema_record.cypher does) and removes the target and cursors, in one transaction.
MATCH (s:GraphmemSchema {name: 'graphmem'})
SET s.version = $version, s.embedding_dim = $dim, s.embedding_model = $model, s.updated_at = datetime()
REMOVE s.reembed_model, s.reembed_dim,
       s.reembed_entities_after, s.reembed_facts_after, s.reembed_messages_after
