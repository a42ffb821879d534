// Keyword search: facts whose sentence, relation or end-entity names hold the query's words.
// A scope of at most $scan_max facts is scanned exactly: each term of $patterns (a word or its
// stem as a prefix, graphmem/_terms.word_patterns) is matched as a whole word,
// case-insensitively, and a fact scores the sum of its matched terms' inverse document
// frequency within the scope, so a rare name outweighs a common verb. A larger scope goes through the shared
// full-text indexes (fact_text, entity_name) with k scaled by the scope's share.
// $patterns: one regular expression per term, of word characters, | and \w* only;
// $needles: per pattern, its words and stem (lower case), one of which the text must contain;
// $lucene: the query's words (letters, digits, _ only), OR-ed.
// Equal scores rank by id, as the scope cache's ranking (graphmem/cache/rank.py) does.
// @include fragments/scope_size
CALL (scope_size, total_size) {
  WITH scope_size WHERE scope_size <= $scan_max
// @include fragments/scope_facts
  WITH s, f, t
  WHERE
// @include fragments/fact_filter
  WITH s, f, t, f.fact + ' ' + f.relation + ' ' + s.name + ' ' + t.name AS text
  WITH s, f, t, text, toLower(text) AS lowered
  // a whole-word match needs one of the term's words or its stem in the text: the cheap test first
  WITH s, f, t, [i IN range(0, size($patterns) - 1)
                 WHERE any(needle IN $needles[i] WHERE lowered CONTAINS needle)
                   AND text =~ ('(?isuU).*\\b(?:' + $patterns[i] + ')\\b.*') | $patterns[i]] AS matched
  WITH collect({s: s, f: f, t: t, matched: matched}) AS rows
  WITH rows, size(rows) AS n, [p IN $patterns | size([r IN rows WHERE p IN r.matched])] AS df
  UNWIND rows AS r
  WITH r, reduce(acc = 0.0, i IN range(0, size($patterns) - 1) |
         acc + CASE WHEN $patterns[i] IN r.matched THEN log(1.0 + toFloat(n) / df[i]) ELSE 0.0 END) AS score
  WHERE score > 0
  RETURN r.s AS s, r.f AS f, r.t AS t, score
  ORDER BY score DESC, f.id
  LIMIT $limit
  UNION
  WITH scope_size, total_size WHERE scope_size > $scan_max
  WITH
// @include fragments/shared_k
  AS k
  // the updates of commits before this one, still queued for the full-text indexes (schema.cypher)
  CALL db.index.fulltext.awaitEventuallyConsistentIndexRefresh()
  CALL (k) {
    CALL db.index.fulltext.queryRelationships('fact_text', $lucene, {limit: k}) YIELD relationship AS f, score
    MATCH (s:Entity)-[f]->(t:Entity)
    RETURN s, f, t, score
    UNION
    CALL db.index.fulltext.queryNodes('entity_name', $lucene, {limit: k}) YIELD node, score
    MATCH (node)-[f:FACT]-(:Entity)
    RETURN startNode(f) AS s, f, endNode(f) AS t, score * 0.5 AS score
  }
  WITH s, f, t, score
  WHERE
// @include fragments/fact_filter
  WITH s, f, t, max(score) AS score
  RETURN s, f, t, score
  ORDER BY score DESC, f.id
  LIMIT $limit
}
RETURN
// @include fragments/fact_projection
AS fact, score
ORDER BY score DESC, fact.id
LIMIT $limit
