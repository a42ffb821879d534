// Keyword search: facts whose sentence or predicate matches the full-text query, plus the
// facts of entities whose name matches it. $lucene holds only escaped word terms.
CALL () {
  CALL db.index.fulltext.queryRelationships('fact_text', $lucene, {limit: $k}) YIELD relationship AS f, score
  MATCH (s:Entity)-[f]->(t:Entity)
  RETURN s, f, t, score
  UNION
  CALL db.index.fulltext.queryNodes('entity_name', $lucene, {limit: $k}) YIELD node, score
  MATCH (node)-[f:FACT]-(:Entity)
  RETURN startNode(f) AS s, f, endNode(f) AS t, score * 0.5 AS score
}
WITH s, f, t, score
WHERE
// @include fragments/fact_filter
WITH s, f, t, max(score) AS score
RETURN
// @include fragments/fact_projection
AS fact, score
ORDER BY score DESC
LIMIT $limit
