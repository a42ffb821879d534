// The next turns a re-embedding embeds again, in id order after $after (its cursor), with the
// text an add embeds for a turn: its content (graphmem/_memory.py, GraphMemory._embed).
MATCH (m:Message)
WHERE m.id > $after AND m.content IS NOT NULL
RETURN m.id AS id, m.content AS text
ORDER BY m.id
LIMIT $limit
