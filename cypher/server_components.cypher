// The server's version and edition (graphmem neo4j status, the benchmarks' environment).
CALL dbms.components() YIELD name, versions, edition
RETURN versions[0] AS version, edition
