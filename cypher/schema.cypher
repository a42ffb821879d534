// Every constraint and index graphmem needs. Applied by `graphmem init` (idempotent:
// IF NOT EXISTS everywhere). $dim is the configured embedder's dimension (384 for MiniLM).
// Bump SCHEMA_VERSION in graphmem/store/schema.py when this file changes.

CREATE CONSTRAINT entity_id IF NOT EXISTS FOR (e:Entity) REQUIRE e.id IS UNIQUE;
CREATE CONSTRAINT message_id IF NOT EXISTS FOR (m:Message) REQUIRE m.id IS UNIQUE;
CREATE CONSTRAINT fact_id IF NOT EXISTS FOR ()-[f:FACT]-() REQUIRE f.id IS UNIQUE;
CREATE CONSTRAINT scope_clock IF NOT EXISTS FOR (s:GraphmemScope) REQUIRE s.key IS UNIQUE;
CREATE CONSTRAINT schema_singleton IF NOT EXISTS FOR (s:GraphmemSchema) REQUIRE s.name IS UNIQUE;

// Scope filters
CREATE INDEX entity_user IF NOT EXISTS FOR (e:Entity) ON (e.user_id);
CREATE INDEX entity_agent IF NOT EXISTS FOR (e:Entity) ON (e.agent_id);
CREATE INDEX entity_run IF NOT EXISTS FOR (e:Entity) ON (e.run_id);
CREATE INDEX fact_user IF NOT EXISTS FOR ()-[f:FACT]-() ON (f.user_id);
CREATE INDEX fact_agent IF NOT EXISTS FOR ()-[f:FACT]-() ON (f.agent_id);
CREATE INDEX fact_run IF NOT EXISTS FOR ()-[f:FACT]-() ON (f.run_id);
CREATE INDEX message_user IF NOT EXISTS FOR (m:Message) ON (m.user_id);
CREATE INDEX message_agent IF NOT EXISTS FOR (m:Message) ON (m.agent_id);
CREATE INDEX message_run IF NOT EXISTS FOR (m:Message) ON (m.run_id);
CREATE INDEX scope_clock_user IF NOT EXISTS FOR (c:GraphmemScope) ON (c.user_id);
CREATE INDEX scope_clock_agent IF NOT EXISTS FOR (c:GraphmemScope) ON (c.agent_id);
CREATE INDEX scope_clock_run IF NOT EXISTS FOR (c:GraphmemScope) ON (c.run_id);

// The vector indexes: cypher/schema_vector.cypher, or on a server whose vector indexes can
// filter inside, cypher/schema_vector_filtered.cypher (graphmem/store/schema.py picks).

// Keyword search. The english analyzer stems ("work" finds "works", "worked"), as graphmem/_terms.py
// does for the scopes that are scanned exactly; indexes of schema version 1 used the standard
// analyzer and are dropped first by schema_drop_fulltext.cypher.
// Eventually consistent: a commit hands its updates to a background thread instead of
// refreshing each index itself (~3 ms of commit per index an add touches, ~2 per add). Every
// statement that queries one first awaits what is queued
// (db.index.fulltext.awaitEventuallyConsistentIndexRefresh), so searches still see every
// committed write. Indexes of schema version < 6 are synchronous and are dropped first too.
CREATE FULLTEXT INDEX entity_name IF NOT EXISTS FOR (e:Entity) ON EACH [e.name]
OPTIONS {indexConfig: {`fulltext.analyzer`: 'english', `fulltext.eventually_consistent`: true}};
CREATE FULLTEXT INDEX fact_text IF NOT EXISTS FOR ()-[f:FACT]-() ON EACH [f.fact, f.relation]
OPTIONS {indexConfig: {`fulltext.analyzer`: 'english', `fulltext.eventually_consistent`: true}};
CREATE FULLTEXT INDEX message_text IF NOT EXISTS FOR (m:Message) ON EACH [m.content]
OPTIONS {indexConfig: {`fulltext.analyzer`: 'english', `fulltext.eventually_consistent`: true}};
