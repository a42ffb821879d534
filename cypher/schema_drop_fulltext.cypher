// Drops the full-text indexes so that cypher/schema.cypher re-creates them with the english
// analyzer; run by `graphmem init` only when one was built with another analyzer.
DROP INDEX entity_name IF EXISTS;
DROP INDEX fact_text IF EXISTS;
DROP INDEX message_text IF EXISTS;
