// The schema version and embedder recorded by the last `graphmem init`, and the target of a
// re-embedding begun and not finished (`graphmem init --reembed`; null: none), which every
// open checks: one round trip for both.
OPTIONAL MATCH (s:GraphmemSchema {name: 'graphmem'})
RETURN s.version AS version, s.embedding_dim AS dim, s.embedding_model AS model,
       s.server_version AS server_version, s.vector_filters AS vector_filters,
       s.reembed_model AS reembed_model, s.reembed_dim AS reembed_dim
