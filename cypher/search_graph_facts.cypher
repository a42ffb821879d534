// The facts associative recall ranks first that no other list returned, by id, in the scope.
UNWIND $ids AS id
MATCH (s:Entity)-[f:FACT {id: id}]->(t:Entity)
WHERE
// @include fragments/fact_filter
RETURN
// @include fragments/fact_projection
  AS fact
