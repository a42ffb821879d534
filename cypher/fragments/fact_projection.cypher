// A FACT relationship f between s and t as the map graphmem reads back into a Fact.
f {.*, embedding: null, source: s.name, source_type: s.type, source_id: s.id,
   target: t.name, target_type: t.type, target_id: t.id}
