// How many stored turns the backfill has left (the progress total): see episodes_to_backfill.
MATCH (m:Message) WHERE m.embedding IS NULL OR m.stemmer IS NULL OR m.stemmer <> $stemmer
RETURN count(m) AS missing
