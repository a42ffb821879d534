// Hard-deletes one fact; entities left without facts or messages go too.
MATCH (s:Entity)-[f:FACT {id: $id}]->(t:Entity)
DELETE f
WITH [s, t] AS ends
UNWIND ends AS e
WITH DISTINCT e
WHERE NOT (e)-[:FACT]-()
DETACH DELETE e
RETURN count(*) AS removed_entities
