// Deletes benchmark data (bench/ only): every entity and message whose user id starts with
// $prefix, with their relationships, in batches. CALL IN TRANSACTIONS: run it auto-commit.
CALL () {
  MATCH (n:Entity) WHERE n.user_id STARTS WITH $prefix RETURN n
  UNION ALL
  MATCH (n:Message) WHERE n.user_id STARTS WITH $prefix RETURN n
}
CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 2000 ROWS
RETURN count(*) AS deleted
