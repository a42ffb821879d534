// graphmem: timeline (a user's facts in the order they became true)
//
// Every fact of one user, valid or invalidated, ordered by valid_from: when it became
// true, until when (valid_to, empty while still valid), and whether it is still valid.
// fact_id feeds the fact_provenance query.
//
// Parameters:
//   :param user_id => 'demo-maya'
MATCH (s:Entity)-[f:FACT]->(t:Entity)
WHERE f.user_id = $user_id
RETURN f.valid_from AS valid_from,
       f.valid_to AS valid_to,
       CASE WHEN f.valid_to IS NULL THEN 'valid' ELSE 'invalidated' END AS status,
       s.name AS source,
       f.relation AS relation,
       t.name AS target,
       f.fact AS fact,
       f.mentions AS mentions,
       f.id AS fact_id
ORDER BY valid_from, f.created_at, fact_id
LIMIT 1000
