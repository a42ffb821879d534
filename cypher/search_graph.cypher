// One hop of associative recall: the facts around the nodes the walk asks for next
// (graphmem/search/associative.py chooses them, graphmem/search/spread.py walks them). For each entity
// of $nodes in the scope, the $fanout facts around it nearest to the query (a hub's among the
// facts the other lists found); each with its similarity to the query, to each aspect word in
// $aspects (for the kept facts only), and the fact counts of its two ends (hub damping). A
// fact between two asked nodes comes twice. Rows are light (what the walk reads);
// cypher/search_graph_facts.cypher fetches the few facts that end up in the results.
// $types / $relations are not applied here: a chain may pass through any fact.
UNWIND $nodes AS id
MATCH (e:Entity {id: id})
WHERE
// @include fragments/entity_scope
CALL (e) {
  WITH e, COUNT { (e)-[:FACT]-() } <= $hub_scan AS scanned
  CALL (e, scanned) {
    // a node of at most $hub_scan facts: all of them
    WITH e WHERE scanned
    MATCH (e)-[f:FACT]-(:Entity)
    RETURN f
    UNION
    // a hub (the speaker, with thousands of facts): only its facts the other lists found
    // ($listed, the scope's facts nearest to the query anyway), by id, so its cost does not
    // grow with it
    WITH e WHERE NOT scanned
    UNWIND $listed AS listed
    MATCH (:Entity)-[f:FACT {id: listed}]->(:Entity)
    WHERE startNode(f) = e OR endNode(f) = e
    RETURN f
  }
  WITH f, startNode(f) AS s, endNode(f) AS t
  WHERE
// @include fragments/fact_filter
  // the embedding read once: reading it is most of a hop's cost
  WITH f, s, t, f.embedding AS v
  WITH f, s, t, v, vector.similarity.cosine(v, $embedding) AS similarity
  ORDER BY similarity DESC
  LIMIT $fanout
  RETURN f, s, t, similarity, [a IN $aspects | vector.similarity.cosine(v, a)] AS aspect_sims
}
RETURN f.id AS id, s.id AS source_id, t.id AS target_id, f.relation AS relation, f.fact AS text,
  s.type AS source_type, t.type AS target_type, similarity, aspect_sims,
  COUNT { (s)-[:FACT]-() } AS source_degree, COUNT { (t)-[:FACT]-() } AS target_degree
