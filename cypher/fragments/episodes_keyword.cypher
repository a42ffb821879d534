// A scope of more than $scan_max turns: those holding the query's words, from the shared
// message_text full-text index with k scaled by the scope's share (search_episodes and its
// cypher/filtered/ variant). Yields m, vector (null), keyword.
    WITH k WHERE $lucene IS NOT NULL
    // the updates of commits before this one, still queued for the full-text index (schema.cypher)
    CALL db.index.fulltext.awaitEventuallyConsistentIndexRefresh()
    CALL db.index.fulltext.queryNodes('message_text', $lucene, {limit: k}) YIELD node AS m, score
    WITH m, score
    WHERE
// @include fragments/message_filter
    RETURN m, null AS vector, score AS keyword
    ORDER BY keyword DESC
    LIMIT $limit
