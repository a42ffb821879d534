// Flushes the bulk load to disk before anything is timed: the first path timed after a large
// load otherwise runs beside the checkpoint it triggers.
CALL db.checkpoint() YIELD success
RETURN success
