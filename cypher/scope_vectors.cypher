// What a search's vector cache holds of a scope (graphmem/_scope_cache.py): its clocks, and
// each fact's and turn's embedding with the fields the search filters on. With $since, only
// what the scope's writes stamped with a later revision (fact or turn added or changed);
// otherwise everything. At most $max_items of each: a larger scope is not cached.
// The read's filters are the scope's and no other (invalidated facts and every time included).
// Times go out as epoch milliseconds (UTC).
// @include fragments/scope_clocks
CALL () {
// @include fragments/scope_facts
  WITH s, f, t
  WHERE f.embedding IS NOT NULL AND ($since IS NULL OR f.revision > $since) AND
// @include fragments/fact_filter
  WITH f LIMIT $max_items
  RETURN collect([f.id, f.relation, datetime({datetime: f.valid_from, timezone: 'Z'}).epochMillis,
                  CASE WHEN f.valid_to IS NULL THEN null
                       ELSE datetime({datetime: f.valid_to, timezone: 'Z'}).epochMillis END,
                  f.embedding]) AS facts
}
CALL () {
// @include fragments/scope_messages
  WITH m
  WHERE m.embedding IS NOT NULL AND ($since IS NULL OR m.revision > $since) AND
// @include fragments/message_filter
  WITH m LIMIT $max_items
  RETURN collect([m.id, datetime({datetime: m.timestamp, timezone: 'Z'}).epochMillis, m.stems,
                  m.embedding]) AS messages
}
RETURN clocks, facts, messages
