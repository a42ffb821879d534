// Gives stored turns their stems (see graphmem/_terms.py) and, to those without one, their
// embedding; one batch per call.
UNWIND $rows AS row
MATCH (m:Message {id: row.id})
SET m.stems = row.stems, m.stemmer = $stemmer
WITH m, row WHERE row.embedding IS NOT NULL
CALL db.create.setNodeVectorProperty(m, 'embedding', row.embedding)
