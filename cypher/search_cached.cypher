// The facts and turns a search's scope cache ranked first (graphmem/cache/scope_cache.py), by id,
// under the search's filters, with the scope's clocks as they are now: the caller checks
// that the cache it ranked from was current.
// @include fragments/scope_clocks
CALL () {
  UNWIND $fact_ids AS id
  MATCH (s:Entity)-[f:FACT {id: id}]->(t:Entity)
  WHERE
// @include fragments/fact_filter
  RETURN collect(
// @include fragments/fact_projection
  ) AS facts
}
CALL () {
  UNWIND $message_ids AS id
  MATCH (m:Message {id: id})
  WHERE
// @include fragments/message_filter
  RETURN collect(
// @include fragments/episode_projection
  ) AS episodes
}
RETURN clocks, facts, episodes
