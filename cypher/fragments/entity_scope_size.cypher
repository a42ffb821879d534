// How many entities the scope holds, counted on the index of the first id that is set (an
// upper bound when several are set), and how many the database holds (count store).
// Yields scope_size and total_size; a statement picks exact scan or shared index by them.
CALL () {
  MATCH (e:Entity) WHERE e.user_id = $user_id RETURN count(e) AS n
  UNION ALL
  UNWIND CASE WHEN $user_id IS NULL THEN [$agent_id] ELSE [] END AS agent_id
  MATCH (e:Entity) WHERE e.agent_id = agent_id RETURN count(e) AS n
  UNION ALL
  UNWIND CASE WHEN $user_id IS NULL AND $agent_id IS NULL THEN [$run_id] ELSE [] END AS run_id
  MATCH (e:Entity) WHERE e.run_id = run_id RETURN count(e) AS n
}
WITH sum(n) AS scope_size
CALL () { MATCH (e:Entity) RETURN count(e) AS total_size }
