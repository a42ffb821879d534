// graphmem: entity neighbourhood (1-2 hops of valid facts around one entity)
//
// Finds an entity by name in one user's scope (case, spaces and punctuation at the ends
// ignored: 'maya', 'Maya ' and 'MAYA' all find Maya) and draws it with everything one
// or two valid FACTs away, in either direction.
//
// Parameters:
//   :param user_id => 'demo-maya'
//   :param name => 'Anna'
MATCH (e:Entity {user_id: $user_id})
WHERE e.normalized = toLower(trim($name)) OR toLower(e.name) = toLower(trim($name))
OPTIONAL MATCH p = (e)-[f:FACT WHERE f.valid_to IS NULL]-{1,2}(:Entity)
RETURN e, p
LIMIT 300
