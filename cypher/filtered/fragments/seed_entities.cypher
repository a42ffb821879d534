// fragments/seed_entities on a server whose vector indexes filter inside: when the query names
// no seed, a scope of more than $scan_max entities finds those nearest to the query embedding
// by one SEARCH restricted to the scope (filtered/fragments/entity_search). The named seeds
// still come from the shared full-text index with a scaled k.
// @include fragments/entity_scope_size
// @include fragments/seed_named
CALL (scope_size, total_size, named) {
  UNWIND named AS seed
  RETURN seed.node AS node, seed.weight AS weight
  UNION
// @include fragments/seed_vector_scan
  UNION
  WITH scope_size WHERE size(named) = 0 AND scope_size > $scan_max
// @include filtered/fragments/entity_search
  WITH e, round(score, $seed_decimals) AS score
  WHERE score >= $min_vector_score AND
// @include fragments/entity_scope
  RETURN e AS node, score AS weight
  ORDER BY weight DESC, node.id
  LIMIT $vector_seeds
}
WITH node, weight
ORDER BY weight DESC, node.id
LIMIT $seeds
