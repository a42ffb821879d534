// A deletion of `gone` (a fact or a turn, bound by the caller): its scope's clock gets a new
// epoch. A search's scope cache cannot see a deletion in what changed since its revision, so it
// reloads the scope (graphmem/cache/scope_cache.py). The clock is found by comparing the ids
// through coalesce (unset ids are null), which no index serves: a scan of the clocks.
CALL (gone) {
  MATCH (clock:GraphmemScope)
  WHERE coalesce(clock.user_id, '') = coalesce(gone.user_id, '')
    AND coalesce(clock.agent_id, '') = coalesce(gone.agent_id, '')
    AND coalesce(clock.run_id, '') = coalesce(gone.run_id, '')
  SET clock.epoch = randomUUID()
}
