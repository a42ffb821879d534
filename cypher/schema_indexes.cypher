// State and configuration of graphmem's indexes.
SHOW INDEXES YIELD name, type, state, properties, options, populationPercent
WHERE name IN $names
RETURN name, type, state, properties, options.indexConfig.`vector.dimensions` AS dim,
       options.indexConfig.`fulltext.analyzer` AS analyzer,
       options.indexConfig.`fulltext.eventually_consistent` AS eventually_consistent,
       populationPercent AS percent
