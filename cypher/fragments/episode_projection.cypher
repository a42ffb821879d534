// A turn m as the map graphmem reads back into an Episode (times as UTC ISO-8601 strings,
// see fact_projection; metadata as the add's JSON text), with the ids of the entities it
// mentions (at most 16). Turns an older graphmem stored may have no created_at.
m {.id, .external_id, .role, .speaker, .content, .user_id, .agent_id, .run_id, .metadata,
   timestamp: toString(datetime({datetime: m.timestamp, timezone: 'Z'})),
   created_at: CASE WHEN m.created_at IS NOT NULL
     THEN toString(datetime({datetime: m.created_at, timezone: 'Z'})) END,
   entity_ids: [(m)-[:MENTIONS]->(e:Entity) | e.id][..16]}
