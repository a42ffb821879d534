// The vector indexes, on a server whose vector indexes cannot filter inside (Neo4j 5.x; applied
// by `graphmem init` after cypher/schema.cypher). A search filters their top k afterwards, so
// the statements compare a small scope exactly and widen k for a large one (fragments/shared_k).
// Semantic lookups: entity names (node matching) and fact sentences (triplet top-K)
CREATE VECTOR INDEX entity_embedding IF NOT EXISTS FOR (e:Entity) ON e.embedding
OPTIONS {indexConfig: {`vector.dimensions`: $dim, `vector.similarity_function`: 'cosine'}};
CREATE VECTOR INDEX fact_embedding IF NOT EXISTS FOR ()-[f:FACT]-() ON f.embedding
OPTIONS {indexConfig: {`vector.dimensions`: $dim, `vector.similarity_function`: 'cosine'}};
// Episodic recall: the stored turns themselves
CREATE VECTOR INDEX message_embedding IF NOT EXISTS FOR (m:Message) ON m.embedding
OPTIONS {indexConfig: {`vector.dimensions`: $dim, `vector.similarity_function`: 'cosine'}};
