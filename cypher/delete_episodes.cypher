// Hard-deletes stored turns of the scope by id (Episode.id). The facts said in them stay (their
// message_ids keep the ids, so `sources` returns fewer turns), and so do their entities. The
// scope's clock gets a new epoch: a search's scope cache cannot see a deletion in what changed
// since its revision, so it reloads the scope (graphmem/cache/scope_cache.py).
MATCH (m:Message)
WHERE m.id IN $ids AND
// @include fragments/message_filter
CALL (m) {
  MATCH (clock:GraphmemScope)
  WHERE coalesce(clock.user_id, '') = coalesce(m.user_id, '')
    AND coalesce(clock.agent_id, '') = coalesce(m.agent_id, '')
    AND coalesce(clock.run_id, '') = coalesce(m.run_id, '')
  SET clock.epoch = randomUUID()
}
DETACH DELETE m
RETURN count(*) AS deleted
