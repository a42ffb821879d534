// A turn m as the map graphmem reads back into an Episode (times as UTC ISO-8601 strings,
// see fact_projection; metadata as the add's JSON text), with the ids of the entities it
// mentions (at most 16).
m {.id, .external_id, .role, .speaker, .content, .user_id, .agent_id, .run_id, .metadata,
   timestamp: toString(datetime({datetime: m.timestamp, timezone: 'Z'})),
   created_at: toString(datetime({datetime: m.created_at, timezone: 'Z'})),
   entity_ids: [(m)-[:MENTIONS]->(e:Entity) | e.id][..16]}
