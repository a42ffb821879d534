"""Neo4j: the typed door (`queries`, a method per statement of cypher/), the transport under it,
the schema, node ids, and the maintenance jobs of `graphmem init` (backfill, re-embedding).
Internal: the public API is `graphmem`'s."""
