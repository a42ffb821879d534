// The entities a query is about (see fragments/seed_entities): where the associative walk
// starts. `normalized` is the name as matched against the query's words.
// @include fragments/seed_entities
RETURN node.id AS id, node.name AS name, node.normalized AS normalized, weight AS score
