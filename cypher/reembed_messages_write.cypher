// One batch of a re-embedding (graphmem/store/reembed.py), in one transaction: the new
// embeddings of turns (Message nodes), and the walk's cursor moved to the batch's
// last id ($after), so a stopped re-embedding goes on after the last batch that committed.
// Stored as 32-bit float arrays, as write_add.cypher stores them. An item deleted since its
// batch was read, or whose text (m.content) changed since, is skipped: a vector is only ever
// stored with the text it was made from.
CALL () {
  UNWIND $rows AS row
  MATCH (m:Message {id: row.id})
  WHERE m.content = row.text
  CALL db.create.setNodeVectorProperty(m, 'embedding', row.embedding)
  RETURN count(*) AS written
}
MATCH (s:GraphmemSchema {name: 'graphmem'})
SET s.reembed_messages_after = $after
RETURN written
