// graphmem: orphans and duplicate candidates (entities worth a cleanup look)
//
// For one user, two kinds of rows, at most 100 of each:
//   kind = 'orphan'     an entity no FACT touches any more (e.g. after delete());
//                       detail = how many messages still mention it.
//   kind = 'duplicate?' two entities of the same scope whose normalised names start
//                       with the same word ('maya' / 'maya chen') or whose name
//                       embeddings are nearly identical (cosine >= 0.92);
//                       detail = the cosine similarity of their name embeddings.
// Cheap: one pass over the user's entities plus one vector-index lookup (50 nearest
// names, all users) per entity; on a database with very many users holding the same
// names the nearest 50 may all be other users' and a near-duplicate can be missed.
//
// Parameters:
//   :param user_id => 'demo-maya'
CALL () {
  MATCH (e:Entity {user_id: $user_id})
  WHERE NOT EXISTS { (e)-[:FACT]-() }
  RETURN 'orphan' AS kind, e.name AS name, e.type AS type, null AS other, null AS other_type,
         toFloat(COUNT { (:Message)-[:MENTIONS]->(e) }) AS detail, e.id AS id, null AS other_id
  LIMIT 100
  UNION
  MATCH (e:Entity {user_id: $user_id})
  WITH e.scope_key AS scope, split(e.normalized, ' ')[0] AS first_word, collect(e) AS group
  WHERE size(group) > 1
  UNWIND group AS a
  UNWIND group AS b
  WITH a, b, first_word
  WHERE a.id < b.id
  RETURN 'duplicate?' AS kind, a.name AS name, a.type AS type, b.name AS other, b.type AS other_type,
         vector.similarity.cosine(a.embedding, b.embedding) AS detail, a.id AS id, b.id AS other_id
  LIMIT 100
  UNION
  MATCH (a:Entity {user_id: $user_id})
  WHERE a.embedding IS NOT NULL
  CALL db.index.vector.queryNodes('entity_embedding', 50, a.embedding) YIELD node AS b, score
  WITH a, b, score
  WHERE b.scope_key = a.scope_key AND a.id < b.id AND score >= 0.92
  RETURN 'duplicate?' AS kind, a.name AS name, a.type AS type, b.name AS other, b.type AS other_type,
         vector.similarity.cosine(a.embedding, b.embedding) AS detail, a.id AS id, b.id AS other_id
  LIMIT 100
}
RETURN kind, name, type, other, other_type, detail, id, other_id
ORDER BY kind DESC, detail DESC, name
