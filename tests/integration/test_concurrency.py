"""Concurrent adds: one node per entity per scope, every fact kept, no deadlock.

Entity ids are derived from (scope, normalised name) and MERGEd under a uniqueness
constraint, so racing adds about the same new entity converge on one node; a racing
CREATE of the same fact id fails the constraint and is matched again once.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import UTC, datetime

import pytest

from graphmem import AsyncGraphMemory, GraphMemory, Scope
from graphmem.store.transport import Store

pytestmark = pytest.mark.neo4j

T0 = datetime(2025, 5, 1, tzinfo=UTC)
FIRMS = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Wonka"]
HOBBIES = ["chess", "jazz", "tennis", "poetry", "sushi", "origami", "tango", "hiking"]
TIMEOUT = 180  # seconds; a deadlock would hang far longer


def _race(fn, args: list) -> list:
    """Run fn(*a) for every a at once (all threads start together); re-raise any failure."""
    barrier = threading.Barrier(len(args))

    def run(a):
        barrier.wait(timeout=60)
        return fn(*a)

    with ThreadPoolExecutor(max_workers=len(args)) as pool:
        futures = [pool.submit(run, a) for a in args]
        done, pending = wait(futures, timeout=TIMEOUT)
        assert not pending, f"{len(pending)} add(s) still running after {TIMEOUT} s: deadlock?"
        return [f.result() for f in futures]


def _nodes(store: Store, user: str, name: str) -> list[dict]:
    return store.run_text(
        "MATCH (n:Entity) WHERE n.user_id = $u AND n.normalized = $n RETURN n.id AS id, n.mentions AS mentions",
        {"u": user, "n": name.casefold()},
    )


def test_eight_adds_about_a_new_entity_make_one_node(memory: GraphMemory, store: Store, new_user):
    user = new_user("zed")
    results = _race(
        lambda i: memory.add_triplets(
            [{"source": "Zed", "source_type": "Person", "relation": "likes", "target": HOBBIES[i]}], user_id=user
        ),
        [(i,) for i in range(8)],
    )
    [zed] = _nodes(store, user, "Zed")
    assert zed["mentions"] == 8
    facts = memory.get_all(user_id=user, include_invalidated=True)
    assert sorted(f.target for f in facts) == sorted(HOBBIES)
    assert {f.source_id for f in facts} == {zed["id"]}
    assert sorted(f.id for r in results for f in r.added) == sorted(f.id for f in facts)


def test_eight_racing_moves_of_one_person_leave_one_valid_employer(memory: GraphMemory, store: Store, new_user):
    """works_at holds one value at a time. Adds of one scope are serialised from matching to
    the write, so racing adds see each other: every fact is kept (as history), one is valid."""
    user = new_user("zed-works")
    _race(
        lambda i: memory.add_triplets(
            [
                {
                    "source": "Zed",
                    "source_type": "Person",
                    "relation": "works_at",
                    "target": FIRMS[i],
                    "target_type": "Organization",
                }
            ],
            user_id=user,
        ),
        [(i,) for i in range(8)],
    )
    assert len(_nodes(store, user, "Zed")) == 1
    facts = memory.get_all(user_id=user, include_invalidated=True)
    assert sorted(f.target for f in facts) == sorted(FIRMS)
    ids = {f.id for f in facts}
    assert all(f.invalidated_by in ids for f in facts if f.invalidated_by)
    assert len(memory.get_all(user_id=user)) == 1, [(f.target, f.valid_to) for f in facts]


@pytest.mark.parametrize("timestamp", [T0, None], ids=["same-time", "now"])
def test_eight_racing_restatements_of_one_fact(memory: GraphMemory, store: Store, new_user, timestamp):
    """The same fact from 8 threads (names differing in case and punctuation): one fact, said 8 times."""
    user = new_user("zed-oslo")
    variants = ["Oslo", "oslo", "OSLO", " Oslo", "Oslo.", "oslo ", "Oslo!", "OsLo"]
    results = _race(
        lambda target: memory.add_triplets(
            [{"source": "Zed", "relation": "lives_in", "target": target, "target_type": "City"}],
            user_id=user,
            timestamp=timestamp,
        ),
        [(v,) for v in variants],
    )
    assert len(_nodes(store, user, "Zed")) == 1 and len(_nodes(store, user, "Oslo")) == 1
    [fact] = memory.get_all(user_id=user, include_invalidated=True)
    assert fact.mentions == 8
    assert sum(len(r.added) for r in results) == 1 and sum(len(r.noop) for r in results) == 7


def test_adds_in_different_scopes_all_finish(memory: GraphMemory, store: Store, new_user):
    users = [new_user(f"scope{i}") for i in range(8)]
    shared = [("Alice", "lives_in", "Paris"), ("Alice", "works_at", "Acme"), ("Bob", "knows", "Alice")]
    _race(
        lambda user: (
            [memory.add_triplets([{"source": s, "relation": r, "target": t}], user_id=user) for s, r, t in shared]
            + [memory.add({"role": "user", "name": "Alice", "content": "I like jazz."}, user_id=user)]
        ),
        [(u,) for u in users],
    )
    for user in users:
        facts = {(f.source, f.relation, f.target) for f in memory.get_all(user_id=user)}
        assert facts == set(shared) | {("Alice", "likes", "jazz")}, user
        assert len(_nodes(store, user, "Alice")) == 1


def test_async_adds_same_and_different_scopes(memory: GraphMemory, store: Store, new_user):
    one, others = new_user("async-one"), [new_user(f"async{i}") for i in range(4)]
    amem = AsyncGraphMemory(memory, max_concurrency=8)

    async def main() -> None:
        same = [amem.add_triplets([{"source": "Zed", "relation": "likes", "target": h}], user_id=one) for h in HOBBIES]
        apart = [
            amem.add_triplets([{"source": "Zed", "relation": "likes", "target": "chess"}], user_id=u) for u in others
        ]
        await asyncio.wait_for(asyncio.gather(*same, *apart), timeout=TIMEOUT)

    asyncio.run(main())
    assert len(_nodes(store, one, "Zed")) == 1
    assert sorted(f.target for f in memory.get_all(user_id=one)) == sorted(HOBBIES)
    for user in others:
        assert [(f.source, f.target) for f in memory.get_all(user_id=user)] == [("Zed", "chess")]
        assert store.run("scope_stats", Scope(user_id=user).params())[0]["entities"] == 2
