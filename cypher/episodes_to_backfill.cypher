// Stored turns written before episodes were searchable (no embedding yet), in id order
// after $after, so a backfill that was stopped goes on where it stopped.
MATCH (m:Message)
WHERE m.id > $after AND m.embedding IS NULL
RETURN m.id AS id, m.content AS content
ORDER BY m.id
LIMIT $limit
