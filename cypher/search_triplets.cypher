// Semantic triplet top-K: the nearest facts to the query embedding through the fact
// vector index. The index is shared by all scopes, so $k over-fetches and the scope
// filter keeps this scope's facts only.
CALL db.index.vector.queryRelationships('fact_embedding', $k, $embedding) YIELD relationship AS f, score
MATCH (s:Entity)-[f]->(t:Entity)
WHERE
// @include fragments/fact_filter
RETURN
// @include fragments/fact_projection
AS fact, score
ORDER BY score DESC
LIMIT $limit
