// Takes the scope's write clock (created at version 0 on the scope's first write): SET takes
// the node's write lock, held until the transaction ends. Yields `clock`.
MERGE (clock:GraphmemScope {key: $scope_clock})
ON CREATE SET clock.version = 0, clock.user_id = $user_id, clock.agent_id = $agent_id,
              clock.run_id = $run_id
SET clock.claimed_at = $now
