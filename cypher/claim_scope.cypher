// The scope's write clock, taken for the rest of the transaction, and its version: an add
// that lost a race to another process matches again with the clock held (GraphMemory._merge).
// @include fragments/scope_clock
RETURN clock.version AS version
