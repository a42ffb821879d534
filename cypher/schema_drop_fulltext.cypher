// Drops the full-text indexes so that cypher/schema.cypher re-creates them with the english
// analyzer and the properties it names; run by `graphmem init` (and a first start) only when
// one was built with another analyzer, other properties, or synchronous (schema < 6).
DROP INDEX entity_name IF EXISTS;
DROP INDEX fact_text IF EXISTS;
DROP INDEX message_text IF EXISTS;
