"""Listing and deleting a scope's stored turns (GraphMemory.episodes / delete_episodes), on a
real Neo4j: newest first, by the caller's id prefix, with the add's metadata, never another
scope's, and a deleted turn gone from episodic search too (the scope cache reloads)."""

from __future__ import annotations

import asyncio

import pytest

from graphmem import AsyncGraphMemory, GraphMemory, InputError

pytestmark = pytest.mark.neo4j


def test_episodes_newest_first_by_prefix_with_metadata(memory: GraphMemory, new_user) -> None:
    user, other = new_user(), new_user()
    memory.add([{"id": "chat:1", "content": "I live in Paris.", "name": "Alice"}], user_id=user, metadata={"n": 1})
    memory.add([{"id": "chat:2", "content": "I work at Acme.", "name": "Alice"}], user_id=user, metadata={"n": 2})
    memory.add([{"id": "note:1", "content": "I like jazz.", "name": "Alice"}], user_id=user)
    memory.add([{"id": "chat:3", "content": "I live in Rome.", "name": "Bob"}], user_id=other)

    listed = memory.episodes(user_id=user)
    assert [e.external_id for e in listed] == ["note:1", "chat:2", "chat:1"]
    assert [e.metadata for e in listed] == [None, {"n": 2}, {"n": 1}]
    assert all(e.created_at is not None and e.user_id == user for e in listed)
    assert [e.external_id for e in memory.episodes(user_id=user, id_prefix="chat:")] == ["chat:2", "chat:1"]
    assert [e.external_id for e in memory.episodes(user_id=user, limit=1)] == ["note:1"]
    assert [e.external_id for e in memory.episodes(user_id=other, id_prefix="chat:")] == ["chat:3"]
    with pytest.raises(InputError, match="limit"):
        memory.episodes(user_id=user, limit=0)
    with pytest.raises(InputError, match="user_id"):
        memory.episodes()


def test_delete_episodes_keeps_facts_and_other_scopes(memory: GraphMemory, new_user) -> None:
    user, other = new_user(), new_user()
    memory.add([{"id": "t1", "content": "I live in Paris.", "name": "Alice"}], user_id=user)
    memory.add([{"id": "t1", "content": "I live in Rome.", "name": "Bob"}], user_id=other)
    assert memory.search("Paris", user_id=user, episodes=3).episodes  # the scope cache now holds the turn
    mine = memory.episodes(user_id=user)[0]
    theirs = memory.episodes(user_id=other)[0]
    facts = memory.stats(user_id=user).valid_facts

    assert memory.delete_episodes([theirs.id], user_id=user) == 0  # another scope's turn: untouched
    assert memory.delete_episodes([mine.id], user_id=user) == 1
    assert memory.episodes(user_id=user) == []
    assert memory.stats(user_id=user).valid_facts == facts > 0
    assert memory.search("Paris", user_id=user, episodes=3).episodes == []
    assert [e.id for e in memory.episodes(user_id=other)] == [theirs.id]
    assert memory.delete_episodes([], user_id=user) == 0
    with pytest.raises(InputError, match="list"):
        memory.delete_episodes(mine.id, user_id=user)


def test_async_episodes(memory: GraphMemory, new_user) -> None:
    user = new_user()

    async def run() -> None:
        amem = AsyncGraphMemory(memory)
        await amem.add([{"id": "a", "content": "I live in Paris.", "name": "Alice"}], user_id=user)
        listed = await amem.episodes(user_id=user)
        assert [e.external_id for e in listed] == ["a"]
        assert await amem.delete_episodes([listed[0].id], user_id=user) == 1

    asyncio.run(run())
