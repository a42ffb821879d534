// What a search's scope cache holds of a scope (graphmem/cache/scope_cache.py): its clocks, and
// each fact's, turn's and entity's embedding with the fields the search lists filter and rank
// on (a fact's ends and the text search_keyword matches). With $since, only what the scope's
// writes stamped with a later revision (fact, turn or entity added or changed); otherwise
// everything. At most $max_items of each: a larger scope is not cached.
// The read's filters are the scope's and no other (invalidated facts and every time included).
// Times go out as epoch milliseconds (UTC).
// @include fragments/scope_clocks
CALL () {
// @include fragments/scope_facts
  WITH s, f, t
  WHERE f.embedding IS NOT NULL AND ($since IS NULL OR f.revision > $since) AND
// @include fragments/fact_filter
  WITH s, f, t LIMIT $max_items
  RETURN collect([f.id, f.relation, datetime({datetime: f.valid_from, timezone: 'Z'}).epochMillis,
                  CASE WHEN f.valid_to IS NULL THEN null
                       ELSE datetime({datetime: f.valid_to, timezone: 'Z'}).epochMillis END,
                  f.embedding, s.id, t.id, f.fact + ' ' + f.relation + ' ' + s.name + ' ' + t.name]) AS facts
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
CALL () {
// @include fragments/scope_entities
  WITH e
  WHERE $since IS NULL OR e.revision > $since
  WITH e LIMIT $max_items
  RETURN collect([e.id, e.name, e.normalized, e.embedding]) AS entities
}
RETURN clocks, facts, messages, entities
