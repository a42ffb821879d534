// search_entities on a server whose vector indexes filter inside (filtered/fragments/seed_entities).
CYPHER 25
// @include filtered/fragments/seed_entities
WITH node AS n, weight
// @include fragments/expand
