// search_seed_entities on a server whose vector indexes filter inside (filtered/fragments/seed_entities).
CYPHER 25
// @include filtered/fragments/seed_entities
RETURN node.id AS id, node.name AS name, node.normalized AS normalized, weight AS score
