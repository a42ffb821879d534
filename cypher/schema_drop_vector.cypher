// Drops the vector indexes so that cypher/schema.cypher creates them again at another
// dimension; run only by `graphmem init --reembed` (graphmem/store/reembed.py) when the configured
// embedder's vectors have another length than the indexes'. Dropped before the new vectors are
// written: Neo4j 5.26 stores a vector of another length than its index's without an error and
// simply leaves it out of the index, so nothing is lost, and the index created afterwards
// indexes every new vector in one build instead of being updated item by item.
DROP INDEX entity_embedding IF EXISTS;
DROP INDEX fact_embedding IF EXISTS;
DROP INDEX message_embedding IF EXISTS;
