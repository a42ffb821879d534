// What a search's vector cache holds of a scope (graphmem/_scope_cache.py): its clocks, and
// each fact's and turn's embedding with the fields the search filters on. With $since, only
// what the scope's writes stamped with a later revision (fact or turn added or changed);
// otherwise everything. At most $max_items of each: a larger scope is not cached.
// Times go out as epoch milliseconds (UTC).
// @include fragments/scope_clocks
CALL () {
// @include fragments/scope_facts
  WITH f
  WHERE ($user_id IS NULL OR f.user_id = $user_id)
    AND ($agent_id IS NULL OR f.agent_id = $agent_id)
    AND ($run_id IS NULL OR f.run_id = $run_id)
    AND ($since IS NULL OR f.revision > $since)
    AND f.embedding IS NOT NULL
  WITH f LIMIT $max_items
  RETURN collect([f.id, f.relation, datetime({datetime: f.valid_from, timezone: 'Z'}).epochMillis,
                  CASE WHEN f.valid_to IS NULL THEN null
                       ELSE datetime({datetime: f.valid_to, timezone: 'Z'}).epochMillis END,
                  f.embedding]) AS facts
}
CALL () {
// @include fragments/scope_messages
  WITH m
  WHERE ($user_id IS NULL OR m.user_id = $user_id)
    AND ($agent_id IS NULL OR m.agent_id = $agent_id)
    AND ($run_id IS NULL OR m.run_id = $run_id)
    AND ($since IS NULL OR m.revision > $since)
    AND m.embedding IS NOT NULL
  WITH m LIMIT $max_items
  RETURN collect([m.id, datetime({datetime: m.timestamp, timezone: 'Z'}).epochMillis, m.stems,
                  m.embedding]) AS messages
}
RETURN clocks, facts, messages
