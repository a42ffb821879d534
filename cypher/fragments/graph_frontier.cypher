// The next hop's frontier: the nodes the last hop reached ($edges) that no earlier hop
// holds ($seen), at most $frontier of them, first those reached by the most relevant facts
// from the heaviest seeds; each keeps the best weight it was reached with.
UNWIND edges AS edge
WITH edge.next AS n, max(edge.w * edge.relevance) AS reach, max(edge.w) AS w, seen
WHERE NOT n IN seen
WITH n, reach, w
ORDER BY reach DESC
LIMIT $frontier
RETURN collect({node: n, weight: w}) AS frontier
