// How many turns the scope holds, counted on the index of the first id that is set (an
// upper bound when several are set), and how many the database holds (count store).
// Yields scope_size and total_size; search_episodes picks exact scan or shared index by them.
CALL () {
  MATCH (m:Message) WHERE m.user_id = $user_id RETURN count(m) AS n
  UNION ALL
  UNWIND CASE WHEN $user_id IS NULL THEN [$agent_id] ELSE [] END AS agent_id
  MATCH (m:Message) WHERE m.agent_id = agent_id RETURN count(m) AS n
  UNION ALL
  UNWIND CASE WHEN $user_id IS NULL AND $agent_id IS NULL THEN [$run_id] ELSE [] END AS run_id
  MATCH (m:Message) WHERE m.run_id = run_id RETURN count(m) AS n
}
WITH sum(n) AS scope_size
CALL () { MATCH (m:Message) RETURN count(m) AS total_size }
