// k for a top-k over an index shared by every scope: $want results scaled by the inverse of
// the scope's share of the data (scope_size of total_size), kept within [$k_min, $k_max].
toInteger(ceil(CASE
  WHEN $want * 1.0 * total_size / scope_size > $k_max THEN $k_max
  WHEN $want * 1.0 * total_size / scope_size < $k_min THEN $k_min
  ELSE $want * 1.0 * total_size / scope_size END))
