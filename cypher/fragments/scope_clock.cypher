// Takes the scope's write clock (created at version 0 on the scope's first write): SET takes
// the node's write lock, held until the transaction ends. Yields `clock`.
// `version` counts the writes that matched entities (the optimistic check of write_add);
// `revision` counts every write, and `epoch` changes when something is deleted: together
// they tell a search's scope cache (graphmem/cache/scope_cache.py) whether it is still current.
MERGE (clock:GraphmemScope {key: $scope_clock})
ON CREATE SET clock.version = 0, clock.revision = 0, clock.epoch = randomUUID(),
              clock.user_id = $user_id, clock.agent_id = $agent_id, clock.run_id = $run_id
SET clock.claimed_at = $now
