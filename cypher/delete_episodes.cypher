// Hard-deletes stored turns of the scope by id (Episode.id). The facts said in them stay (their
// message_ids keep the ids, so `sources` returns fewer turns), and so do their entities. The
// scope's clock gets a new epoch (fragments/new_epoch).
MATCH (m:Message)
WHERE m.id IN $ids AND
// @include fragments/message_filter
WITH m AS gone
// @include fragments/new_epoch
DETACH DELETE gone
RETURN count(*) AS deleted
