// Gives every scope clock a new epoch, after a change made outside an add (a backfill of turn
// embeddings, a schema migration): searches' scope caches then reload their scopes.
MATCH (clock:GraphmemScope)
SET clock.epoch = randomUUID()
RETURN count(clock) AS expired
