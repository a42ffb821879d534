// Whether a ranking this process's scope cache made (row.near, graphmem/cache/near.py) is good
// for the scope now: its clock, bound as `clock` (null when it has none), is still at the epoch
// and revision the cache held ($held_epoch, $held_revision; both null when it held nothing).
// An expression: true or false, never null.
coalesce($held_revision IS NOT NULL AND clock.revision = $held_revision AND clock.epoch = $held_epoch, false)
