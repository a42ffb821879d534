// The server's heap and page cache settings, for the benchmark's environment block: a memory
// whose store outgrows the page cache reads from disk, and the figures show it.
SHOW SETTINGS YIELD name, value
WHERE name IN ['server.memory.heap.max_size', 'server.memory.pagecache.size']
RETURN name, value
