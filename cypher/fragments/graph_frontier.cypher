// The next hop's frontier: the nodes the last hop reached ($edges) that no earlier hop
// holds ($seen), at most $frontier of them, those reached by the most relevant facts first.
UNWIND edges AS edge
WITH edge.next AS n, max(edge.relevance) AS reach, seen
WHERE NOT n IN seen
WITH n, reach
ORDER BY reach DESC
LIMIT $frontier
RETURN collect(n) AS frontier
