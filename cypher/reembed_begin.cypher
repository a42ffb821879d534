// Records the target of a re-embedding in the schema record before its first vector is
// written: until reembed_finish.cypher removes it, opening the memory fails (graphmem/store/schema.py)
// and a second `graphmem init --reembed` goes on from the cursors (the last id done per kind).
MERGE (s:GraphmemSchema {name: 'graphmem'})
SET s.reembed_model = $model, s.reembed_dim = $dim,
    s.reembed_entities_after = $entities_after, s.reembed_facts_after = $facts_after,
    s.reembed_messages_after = $messages_after, s.updated_at = datetime()
