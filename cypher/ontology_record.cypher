// Records the ontology the database is now written under (graphmem init) and returns the one
// recorded before; a name of null: no ontology.
MERGE (s:GraphmemSchema {name: 'graphmem'})
WITH s, s.ontology_recorded_at IS NOT NULL AS recorded, s.ontology_name AS name,
     s.ontology_fingerprint AS fingerprint
SET s.ontology_name = $name, s.ontology_fingerprint = $fingerprint, s.ontology_recorded_at = datetime()
RETURN recorded, name, fingerprint
