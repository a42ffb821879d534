// One fact by id.
MATCH (s:Entity)-[f:FACT {id: $id}]->(t:Entity)
RETURN f {.*, embedding: null, source: s.name, source_type: s.type, source_id: s.id,
          target: t.name, target_type: t.type, target_id: t.id} AS fact
