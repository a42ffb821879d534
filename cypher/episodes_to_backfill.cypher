// Stored turns the search cannot use as they are, in id order after $after, so a backfill that
// was stopped goes on where it stopped: turns written before episodes were searchable (no
// embedding), and turns stemmed by another stemmer than $stemmer (graphmem/_terms.py).
MATCH (m:Message)
WHERE m.id > $after AND (m.embedding IS NULL OR m.stemmer IS NULL OR m.stemmer <> $stemmer)
RETURN m.id AS id, m.content AS content, m.embedding IS NULL AS unembedded
ORDER BY m.id
LIMIT $limit
