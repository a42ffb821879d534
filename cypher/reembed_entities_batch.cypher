// The next entities a re-embedding embeds again, in id order after $after (its cursor), with
// the text an add embeds for an entity: its name (graphmem/_memory.py, GraphMemory._embed).
MATCH (e:Entity)
WHERE e.id > $after AND e.name IS NOT NULL
RETURN e.id AS id, e.name AS text
ORDER BY e.id
LIMIT $limit
