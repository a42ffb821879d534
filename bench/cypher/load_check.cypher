// The REST load benchmark's final count (bench/serve_load.py): the stored turns under $prefix,
// and how many times each fact id the service reported added is stored.
MATCH (m:Message) WHERE m.user_id STARTS WITH $prefix
WITH count(m) AS messages
OPTIONAL MATCH ()-[f:FACT]->() WHERE f.id IN $fact_ids
WITH messages, f.id AS id, count(f) AS copies
RETURN messages, collect({id: id, copies: copies}) AS facts
