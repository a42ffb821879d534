// Entity-centric retrieval, first hop: the seed entities of the query
// (fragments/seed_entities) and the facts around them (fragments/expand), one round trip.
// Further hops go through search_expand with the returned next_id as the frontier.
// @include fragments/seed_entities
WITH node AS n, weight
// @include fragments/expand
