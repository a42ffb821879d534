// graphmem: recent invalidations (what changed, and what replaced it)
//
// Facts of one user that graphmem invalidated in the last $days days (by invalidated_at,
// the wall-clock time of the add() that closed them), newest first, next to the fact
// that replaced them. valid_to is when the old fact stopped being true in the
// conversation; replaced_by is empty when nothing replaced it.
//
// Parameters:
//   :param user_id => 'demo-maya'
//   :param days => 7
MATCH (s:Entity)-[old:FACT]->(t:Entity)
WHERE old.user_id = $user_id
  AND old.invalidated_at >= datetime() - duration({days: $days})
OPTIONAL MATCH (ns:Entity)-[new:FACT {id: old.invalidated_by}]->(nt:Entity)
RETURN old.invalidated_at AS invalidated_at,
       s.name + ' -[' + old.relation + ']-> ' + t.name AS old_triplet,
       old.fact AS old_fact,
       old.valid_from AS old_valid_from,
       old.valid_to AS old_valid_to,
       ns.name + ' -[' + new.relation + ']-> ' + nt.name AS replaced_by,
       new.fact AS new_fact,
       new.valid_from AS new_valid_from,
       old.id AS old_fact_id,
       new.id AS new_fact_id
ORDER BY invalidated_at DESC
LIMIT 200
