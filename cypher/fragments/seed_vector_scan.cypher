// Only when the query names no seed, in a scope of at most $scan_max entities: its entities
// nearest to the query embedding, compared exactly (see fragments/seed_entities).
  WITH scope_size WHERE size(named) = 0 AND scope_size <= $scan_max
// @include fragments/scope_entities
  WITH e, round(vector.similarity.cosine(e.embedding, $embedding), $seed_decimals) AS score
  WHERE score >= $min_vector_score
  RETURN e AS node, score AS weight
  ORDER BY weight DESC, node.id
  LIMIT $vector_seeds
