// The seeds the query names (see fragments/seed_entities): one row, `named`, a list of
// {node, weight}, empty when the query names no entity of the scope.
CALL (scope_size, total_size) {
  CALL (scope_size, total_size) {
    WITH scope_size WHERE scope_size <= $scan_max AND size($words) > 0
// @include fragments/scope_entities
    RETURN e
    UNION
    WITH scope_size, total_size WHERE scope_size > $scan_max AND size($words) > 0
    WITH
// @include fragments/shared_k
    AS k
    // the updates of commits before this one, still queued for the full-text index (schema.cypher)
    CALL db.index.fulltext.awaitEventuallyConsistentIndexRefresh()
    CALL db.index.fulltext.queryNodes('entity_name', $lucene, {limit: k}) YIELD node AS e
    WITH e
    WHERE
// @include fragments/entity_scope
    RETURN e
  }
  WITH e, split(e.normalized, ' ') AS name_words
  WITH e, toFloat(size([w IN name_words WHERE w IN $words])) / size(name_words) AS score
  WHERE score > 0
  RETURN collect({node: e, weight: score}) AS named  // one row, even when nothing is named
}
