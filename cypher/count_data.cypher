// How much graphmem data the database holds.
CALL () { MATCH (e:Entity) RETURN count(e) AS entities }
CALL () { MATCH ()-[f:FACT]->() RETURN count(f) AS facts }
CALL () { MATCH (m:Message) RETURN count(m) AS messages }
RETURN entities, facts, messages
