// graphmem: fact provenance (the messages a fact came from)
//
// One fact (by its id, e.g. the fact_id column of the timeline query) with the
// conversation turns that stated or restated it (its message_ids): speaker, text and
// timestamp, oldest first. A fact imported with add_triplets has no messages: it is
// returned once with empty message columns.
//
// Parameters:
//   :param fact_id => '39e35a9cbaad2cf3d2e75cff783b8e3e'
MATCH (s:Entity)-[f:FACT {id: $fact_id}]->(t:Entity)
OPTIONAL MATCH (m:Message)
WHERE m.id IN f.message_ids
RETURN s.name + ' -[' + f.relation + ']-> ' + t.name AS triplet,
       f.fact AS fact,
       f.valid_from AS valid_from,
       f.valid_to AS valid_to,
       f.user_id AS user_id,
       m.speaker AS speaker,
       m.role AS role,
       m.content AS text,
       m.timestamp AS timestamp
ORDER BY m.timestamp, m.id
