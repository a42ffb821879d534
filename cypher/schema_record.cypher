// Records which schema version and embedder the indexes were built for, on which server, and
// whether the vector indexes filter inside (cypher/schema_vector_filtered.cypher).
MERGE (s:GraphmemSchema {name: 'graphmem'})
SET s.version = $version, s.embedding_dim = $dim, s.embedding_model = $model,
    s.server_version = $server_version, s.vector_filters = $vector_filters, s.updated_at = datetime()
