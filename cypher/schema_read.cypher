// The schema version and embedder recorded by the last `graphmem init`.
OPTIONAL MATCH (s:GraphmemSchema {name: 'graphmem'})
RETURN s.version AS version, s.embedding_dim AS dim, s.embedding_model AS model
