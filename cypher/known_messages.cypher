// Which of these message ids are already stored in the scope (resumable, idempotent ingest).
UNWIND $ids AS id
MATCH (m:Message {id: id})
RETURN collect(m.id) AS known
