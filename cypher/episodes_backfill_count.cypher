// How many stored turns still lack an embedding (the backfill's progress total).
MATCH (m:Message) WHERE m.embedding IS NULL
RETURN count(m) AS missing
