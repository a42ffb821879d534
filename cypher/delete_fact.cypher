// Hard-deletes one fact; entities left without facts or messages go too. The fact's scope
// clock gets a new epoch (fragments/new_epoch).
MATCH (s:Entity)-[f:FACT {id: $id}]->(t:Entity)
WITH s, f, t, f AS gone
// @include fragments/new_epoch
DELETE f
WITH [s, t] AS ends
UNWIND ends AS e
WITH DISTINCT e
WHERE NOT (e)-[:FACT]-()
DETACH DELETE e
RETURN count(*) AS removed_entities
