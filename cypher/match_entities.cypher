// Node matcher lookup, one round trip for all entities of an add: for each extracted
// entity, the node with the same normalised name in the scope (exact: its id is derived
// from scope and normalised name, so the lookup is a unique-index seek), and the nearest
// nodes of the scope by name embedding.
// The entity vector index is shared by every scope and cannot filter inside, so a top-k
// over it, filtered afterwards, can hold no node of a small scope at all (other tenants'
// look-alike names fill it). A scope of at most $scan_max entities is therefore compared
// exactly, node by node; a larger one asks the index for k scaled by its share of all
// entities (fragments/shared_k with $want = $k).
// When this process's search cache holds the scope, the caller has ranked the nearest nodes
// itself (row.near: ids and scores, graphmem/cache/near.py): they are used, and nothing is
// scanned, only if the scope's clock is still at the epoch and revision the cache holds
// ($held_epoch, $held_revision; null when it does not hold the scope).
// The scope's write clock (a version bumped by every write that matched entities) is read
// before the entities are: cypher/write_add.cypher refuses the write if another process
// has changed the scope since, and the add is matched again (GraphMemory._merge).
// @include fragments/entity_scope_size
OPTIONAL MATCH (clock:GraphmemScope {key: $scope_clock})
WITH scope_size, total_size, coalesce(clock.version, 0) AS scope_version,
// @include fragments/held_clock
  AS held
UNWIND $rows AS row
// @include fragments/match_exact
// @include fragments/match_held
CALL (row, scope_size, held, exact) {
  WITH row WHERE NOT held AND scope_size <= $scan_max AND exact IS NULL
// @include fragments/scope_entities
    AND e.scope_key = $scope_key
  WITH e, vector.similarity.cosine(e.embedding, row.embedding) AS score
  ORDER BY score DESC
  LIMIT $keep
  RETURN collect(e {.id, .name, .normalized, .type, score: score}) AS scanned
}
CALL (row, scope_size, total_size, held, exact) {
  WITH row WHERE NOT held AND scope_size > $scan_max AND exact IS NULL
  WITH row,
// @include fragments/shared_k
  AS k
  CALL db.index.vector.queryNodes('entity_embedding', k, row.embedding) YIELD node, score
  WHERE node.scope_key = $scope_key
  WITH node, score
  ORDER BY score DESC
  LIMIT $keep
  RETURN collect(node {.id, .name, .normalized, .type, score: score}) AS indexed
}
RETURN row.i AS i, exact, ranked + scanned + indexed AS near, scope_version, held
