// graphmem: user graph (entities and their valid facts)
//
// Shows one user's memory as a graph: every entity of the user and the FACT
// relationships that are valid now (valid_to IS NULL). Returns paths and nodes, so
// Browser draws a graph; entities whose facts were all invalidated appear alone.
// Invalidated facts are left out: see timeline / recent_invalidations for history.
//
// Parameters (set once per Browser session, then run this query):
//   :param user_id => 'demo-maya'
//
// Tip: Browser's "Connect result nodes" setting (on by default) also draws every other
// relationship between the nodes shown, invalidated FACTs included; switch it off in
// Browser settings to see only what this query returns.
MATCH (e:Entity {user_id: $user_id})
OPTIONAL MATCH p = (e)-[f:FACT WHERE f.valid_to IS NULL]->(:Entity)
RETURN e, p
LIMIT 500
