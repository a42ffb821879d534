// The next facts a re-embedding embeds again, in id order after $after (its cursor), with the
// text an add embeds for a fact: its sentence, stored as `fact` (graphmem/write/plan.py).
MATCH ()-[f:FACT]->()
WHERE f.id > $after AND f.fact IS NOT NULL
RETURN f.id AS id, f.fact AS text
ORDER BY f.id
LIMIT $limit
