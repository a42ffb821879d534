// Deletes all graphmem data in the database (entities, facts, messages). Schema stays.
MATCH (n) WHERE n:Entity OR n:Message
DETACH DELETE n
RETURN count(n) AS deleted
