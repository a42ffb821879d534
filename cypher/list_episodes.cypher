// The scope's stored turns, newest first; with $id_prefix, only those whose caller id
// (Message.id, stored as external_id) starts with it. Turns an older graphmem stored without
// created_at come last.
// @include fragments/scope_messages
WITH m
WHERE
// @include fragments/message_filter
  AND ($id_prefix IS NULL OR m.external_id STARTS WITH $id_prefix)
RETURN
// @include fragments/episode_projection
AS episode
ORDER BY m.created_at IS NULL, m.created_at DESC, m.external_id
LIMIT $limit
