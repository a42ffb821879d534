// Gives stored turns their embedding and stems (see graphmem/_terms.py), one batch per call.
UNWIND $rows AS row
MATCH (m:Message {id: row.id})
SET m.stems = row.stems
WITH m, row
CALL db.create.setNodeVectorProperty(m, 'embedding', row.embedding)
