// A FACT relationship f between s and t as the map graphmem reads back into a Fact.
// Times go out as UTC ISO-8601 strings (the Fact model parses them): the driver's
// hydration of temporal values is pure Python and cost ~0.1-0.4 ms per value, i.e. most of
// a search's time. Only the properties a Fact holds are read: `.*` would also read the
// embedding (1.5 KB) of every fact, to send null instead.
f {.id, .relation, .fact, .mentions, .confidence, .invalidated_by, .message_ids,
   .user_id, .agent_id, .run_id,
   valid_from: toString(datetime({datetime: f.valid_from, timezone: 'Z'})),
   valid_to: CASE WHEN f.valid_to IS NULL THEN null ELSE toString(datetime({datetime: f.valid_to, timezone: 'Z'})) END,
   created_at: toString(datetime({datetime: f.created_at, timezone: 'Z'})),
   updated_at: CASE WHEN f.updated_at IS NULL THEN null ELSE toString(datetime({datetime: f.updated_at, timezone: 'Z'})) END,
   source: s.name, source_type: s.type, source_id: s.id,
   target: t.name, target_type: t.type, target_id: t.id}
