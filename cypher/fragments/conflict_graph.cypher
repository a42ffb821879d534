// Conflict lookup (conflict_candidates), per row: the valid facts leaving the new triplet's
// source node that the detector may keep, then those between the same two nodes the other way.
// Yields s, f, t, score (null): two branches of the caller's UNION.
  MATCH (s:Entity {id: row.source_id})-[f:FACT]->(t:Entity)
  WHERE f.valid_to IS NULL
  WITH s, f, t ORDER BY f.updated_at DESC LIMIT $per_source
  WITH s, f, t WHERE f.relation IN row.relations OR t.id = row.target_id OR NOT f.relation IN $known
  RETURN s, f, t, null AS score
  UNION
  MATCH (s:Entity {id: row.target_id})-[f:FACT]->(t:Entity {id: row.source_id})
  WHERE f.valid_to IS NULL
  RETURN s, f, t, null AS score
