// A scope of at most $scan_max facts, compared exactly: cosine of each fact to the query's
// embedding (search_triplets and its cypher/filtered/ variant).
  WITH scope_size WHERE scope_size <= $scan_max
// @include fragments/scope_facts
  WITH s, f, t
  WHERE
// @include fragments/fact_filter
  WITH s, f, t, vector.similarity.cosine(f.embedding, $embedding) AS score
  ORDER BY score DESC, f.id
  LIMIT $limit
  RETURN s, f, t, score
