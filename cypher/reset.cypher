// Deletes all graphmem data in the database (entities, facts, messages, scope clocks). Schema stays.
CALL () { MATCH (clock:GraphmemScope) DELETE clock }
MATCH (n) WHERE n:Entity OR n:Message
DETACH DELETE n
RETURN count(n) AS deleted
