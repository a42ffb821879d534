// Stored turns by id within the scope, oldest first: the sources of a fact (Fact.message_ids).
MATCH (m:Message)
WHERE m.id IN $ids AND
// @include fragments/message_filter
RETURN
// @include fragments/episode_projection
AS episode
ORDER BY m.timestamp
