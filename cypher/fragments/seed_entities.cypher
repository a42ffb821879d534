// The entities a query is about, without an LLM. Yields rows (node, weight), best first.
// Named seeds: entities whose name words are among the query's words ($words), weighted by
// the share of the name that matched ("Wayne" gives Wayne Enterprises 0.5). Only when the
// query names none: the $vector_seeds entities nearest to the query embedding, weighted by
// cosine, if at least $min_vector_score (a name against a whole question rarely scores
// high: any person's name is ~0.6-0.7 from "where does X work?", so these are a fallback).
// A scope of at most $scan_max entities is scanned exactly; a larger one goes through the
// shared entity_name / entity_embedding indexes with k scaled by its share of all entities.
// Equal scores rank by id, as the scope cache's ranking (graphmem/cache/rank.py) does; vector
// weights are rounded to $seed_decimals there and here, so that names embedded ~1e-7 apart (the
// same name in a scope and one below it) tie, whichever side computes them.
// @include fragments/entity_scope_size
// @include fragments/seed_named
CALL (scope_size, total_size, named) {
  UNWIND named AS seed
  RETURN seed.node AS node, seed.weight AS weight
  UNION
// @include fragments/seed_vector_scan
  UNION
  WITH scope_size, total_size WHERE size(named) = 0 AND scope_size > $scan_max
  WITH
// @include fragments/shared_k
  AS k
  CALL db.index.vector.queryNodes('entity_embedding', k, $embedding) YIELD node AS e, score
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
