// The entities a query is about (see fragments/seed_entities), for inspection and tests.
// @include fragments/seed_entities
RETURN node.id AS id, node.name AS name, weight AS score
