// Associative recall, one round trip: the subgraph around the query's seeds that
// graphmem/_spread.py walks. Seeds are the entities the query names (fragments/seed_entities)
// plus $hit_seeds (the ends of the best fact and turn hits, found by the other lists first).
// Up to three hops out, each node gives at most $fanout facts (those nearest to the query,
// fragments/graph_hop) and each hop's frontier keeps at most $frontier new nodes, those
// reached from the heaviest seeds by the most relevant facts first, so the cost is bounded
// whatever the graph's size. Returns one row: the named seeds and the distinct facts reached,
// each with its similarity to the query, to each aspect word, and the fact counts of its two
// ends (hub damping).
// $types / $relations are not applied here: a chain may pass through any fact.
CALL () {
// @include fragments/seed_entities
  RETURN collect({id: node.id, name: node.normalized, weight: weight}) AS named
}
CALL (named) {
  UNWIND named + $hit_seeds AS seed
  MATCH (e:Entity {id: seed.id})
  WHERE
// @include fragments/entity_scope
  WITH e, max(seed.weight) AS weight
  RETURN collect({node: e, weight: weight}) AS hop0
}
CALL (hop0) {
  UNWIND hop0 AS item
  WITH item.node AS n, item.weight AS w
// @include fragments/graph_hop
  RETURN collect(edge) AS edges1
}
CALL (hop0, edges1) {
  WITH edges1 AS edges, [x IN hop0 | x.node] AS seen
// @include fragments/graph_frontier
}
WITH named, hop0, edges1, frontier AS hop1
CALL (hop1) {
  UNWIND CASE WHEN $hops >= 2 THEN hop1 ELSE [] END AS item
  WITH item.node AS n, item.weight AS w
// @include fragments/graph_hop
  RETURN collect(edge) AS edges2
}
CALL (hop0, hop1, edges2) {
  WITH edges2 AS edges, [x IN hop0 + hop1 | x.node] AS seen
// @include fragments/graph_frontier
}
WITH named, edges1, edges2, frontier AS hop2
CALL (hop2) {
  UNWIND CASE WHEN $hops >= 3 THEN hop2 ELSE [] END AS item
  WITH item.node AS n, item.weight AS w
// @include fragments/graph_hop
  RETURN collect(edge) AS edges3
}
CALL (edges1, edges2, edges3) {
  UNWIND edges1 + edges2 + edges3 AS edge
  WITH edge.f AS f, head(collect(edge)) AS edge
  WITH f, edge.s AS s, edge.t AS t, edge
  RETURN collect({
    fact:
// @include fragments/fact_projection
    , similarity: edge.sim, aspect_sims: edge.aspect_sims,
    source_degree: COUNT { (s)-[:FACT]-() }, target_degree: COUNT { (t)-[:FACT]-() }
  }) AS edges
}
RETURN named, edges
