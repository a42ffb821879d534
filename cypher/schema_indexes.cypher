// State and configuration of graphmem's indexes.
SHOW INDEXES YIELD name, type, state, options
WHERE name IN $names
RETURN name, type, state, options.indexConfig.`vector.dimensions` AS dim,
       options.indexConfig.`fulltext.analyzer` AS analyzer
