// How many items a re-embedding has left per kind (the progress totals): those after its
// cursors, with the text their embedding is made from (see reembed_*_batch.cypher).
CALL () {
  MATCH (e:Entity) WHERE e.id > $entities_after AND e.name IS NOT NULL
  RETURN count(e) AS entities
}
CALL () {
  MATCH ()-[f:FACT]->() WHERE f.id > $facts_after AND f.fact IS NOT NULL
  RETURN count(f) AS facts
}
CALL () {
  MATCH (m:Message) WHERE m.id > $messages_after AND m.content IS NOT NULL
  RETURN count(m) AS messages
}
RETURN entities, facts, messages
