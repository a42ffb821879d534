// How many facts the scope holds, counted on the index of the first id that is set (an
// upper bound when several are set), and how many the database holds (count store).
// Yields scope_size and total_size; a search statement picks its strategy by them.
// The UNWIND guards keep a branch from running at all when an earlier id is set.
CALL () {
  MATCH ()-[f:FACT]->() WHERE f.user_id = $user_id RETURN count(f) AS n
  UNION ALL
  UNWIND CASE WHEN $user_id IS NULL THEN [$agent_id] ELSE [] END AS agent_id
  MATCH ()-[f:FACT]->() WHERE f.agent_id = agent_id RETURN count(f) AS n
  UNION ALL
  UNWIND CASE WHEN $user_id IS NULL AND $agent_id IS NULL THEN [$run_id] ELSE [] END AS run_id
  MATCH ()-[f:FACT]->() WHERE f.run_id = run_id RETURN count(f) AS n
}
WITH sum(n) AS scope_size
CALL () { MATCH ()-[f:FACT]->() RETURN count(f) AS total_size }
