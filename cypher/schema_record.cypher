// Records which schema version and embedder the indexes were built for.
MERGE (s:GraphmemSchema {name: 'graphmem'})
SET s.version = $version, s.embedding_dim = $dim, s.embedding_model = $model, s.updated_at = datetime()
