// Hard-deletes one fact; entities left without facts or messages go too. The fact's scope
// clock gets a new epoch: a search's scope cache cannot see a deletion in what changed
// since its revision, so it reloads the scope (graphmem/cache/scope_cache.py).
MATCH (s:Entity)-[f:FACT {id: $id}]->(t:Entity)
CALL (f) {
  MATCH (clock:GraphmemScope)
  WHERE coalesce(clock.user_id, '') = coalesce(f.user_id, '')
    AND coalesce(clock.agent_id, '') = coalesce(f.agent_id, '')
    AND coalesce(clock.run_id, '') = coalesce(f.run_id, '')
  SET clock.epoch = randomUUID()
}
DELETE f
WITH [s, t] AS ends
UNWIND ends AS e
WITH DISTINCT e
WHERE NOT (e)-[:FACT]-()
DETACH DELETE e
RETURN count(*) AS removed_entities
