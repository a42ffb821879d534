// Schema 3: a fact's relation name is stored as `relation` (graphmem's one word for it), no
// longer as `predicate`. One batch per call (graphmem init / the first start repeats it until
// it moves nothing): each batch is its own transaction, so a stopped migration goes on.
MATCH ()-[f:FACT]->()
WHERE f.predicate IS NOT NULL
WITH f LIMIT $batch
SET f.relation = f.predicate
REMOVE f.predicate
RETURN count(f) AS moved
