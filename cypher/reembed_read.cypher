// The re-embedding `graphmem init --reembed` has begun and not finished (graphmem/store/reembed.py):
// its target embedder (model, dim; null: none under way) and how far its walk got through each
// kind of item (the last id done; '' before the first batch).
OPTIONAL MATCH (s:GraphmemSchema {name: 'graphmem'})
RETURN s.reembed_model AS model, s.reembed_dim AS dim,
       s.reembed_entities_after AS entities_after, s.reembed_facts_after AS facts_after,
       s.reembed_messages_after AS messages_after
