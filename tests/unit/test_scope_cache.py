"""The search's vector cache (graphmem/_scope_cache.py): what it reloads when a scope's clocks
move, and that it ranks as the exact scans of cypher/search_triplets and search_episodes do.
The Neo4j side is tests/integration/test_search_cache.py."""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np
import pytest

from graphmem import Scope, Usage
from graphmem._queries import Filters
from graphmem._scope_cache import (
    CacheFilter,
    ScopeVectors,
    VectorCache,
    rank_episodes,
    rank_facts,
    reload_from,
)

DIM = 8


def test_reload_from_names_the_lowest_revision_a_moved_clock_held():
    held = (("a", "e1", 4), ("b", "e2", 9))
    assert reload_from(held, (("a", "e1", 6), ("b", "e2", 9))) == 4
    assert reload_from(held, (("a", "e1", 6), ("b", "e2", 12))) == 4
    assert reload_from(held, (("a", "e1", 4), ("b", "e2", 10))) == 9
    assert reload_from(held, held + (("c", "e3", 1),)) == 0  # a new clock: all its writes
    assert reload_from((), (("c", "e3", 2),)) == 0
    assert reload_from(held, held) == 9  # nothing moved: nothing to reload


@pytest.mark.parametrize(
    "now",
    [
        (("a", "e1", 4),),  # b was deleted
        (("a", "other", 4), ("b", "e2", 9)),  # a deletion gave a a new epoch
        (("a", "e1", 3), ("b", "e2", 9)),  # deleted and written again
        (),  # reset
    ],
)
def test_reload_from_asks_for_everything_when_a_clock_cannot_tell(now):
    assert reload_from((("a", "e1", 4), ("b", "e2", 9)), now) is None


def _vec(rng: random.Random) -> list[float]:
    return [rng.gauss(0, 1) for _ in range(DIM)]


def _facts(rng: random.Random, n: int) -> list[list[Any]]:
    rows = []
    for i in range(n):
        start = rng.randrange(0, 100) * 1000.0
        end = None if rng.random() < 0.6 else start + rng.randrange(1, 50) * 1000.0
        rows.append([f"f{i}", rng.choice(["lives_in", "works_at", "likes"]), start, end, _vec(rng)])
    return rows


def _cosine(a: list[float], b: np.ndarray) -> float:
    x = np.array(a)
    return float(x @ b / np.linalg.norm(x) / np.linalg.norm(b))


def _reference_facts(rows: list[list[Any]], query: np.ndarray, where: CacheFilter, limit: int) -> list[str]:
    """cypher/fragments/fact_filter and search_triplets' ORDER BY, row by row."""
    kept = []
    for fid, relation, start, end, vector in rows:
        if where.as_of is not None:
            ok = start <= where.as_of and (end is None or end > where.as_of)
        else:
            ok = where.include_invalidated or end is None
        if ok and (where.relations is None or relation in where.relations):
            kept.append(((1 + _cosine(vector, query)) / 2, fid))
    return [fid for _, fid in sorted(kept, reverse=True)[:limit]]


@pytest.mark.parametrize("seed", range(20))
def test_facts_rank_as_the_exact_scan_does(seed):
    rng = random.Random(seed)
    rows = _facts(rng, rng.randrange(0, 60))
    scope = ScopeVectors.build((), rows, [], DIM)
    query = np.array(_vec(rng), dtype=np.float32)
    query /= np.linalg.norm(query)
    where = rng.choice(
        [
            CacheFilter(),
            CacheFilter(include_invalidated=True),
            CacheFilter(as_of=rng.randrange(0, 120) * 1000.0),
            CacheFilter(relations=frozenset({"works_at", "likes"})),
        ]
    )
    limit = rng.randrange(1, 20)
    ranked = rank_facts(scope, query, where, limit)
    assert [fid for fid, _ in ranked] == _reference_facts(rows, query, where, limit)
    assert all(0.0 <= score <= 1.0 for _, score in ranked)


def test_turns_rank_by_vector_and_by_the_weight_of_the_stems_they_say():
    turns = [
        ["t0", 1000.0, " i work at bosch ", [1, 0, 0, 0, 0, 0, 0, 0]],
        ["t1", 2000.0, " jona work late ", [0, 1, 0, 0, 0, 0, 0, 0]],
        ["t2", 3000.0, " marathon train ", [0, 0, 1, 0, 0, 0, 0, 0]],
        ["t3", 4000.0, " bosch bosch ", [0.9, 0.1, 0, 0, 0, 0, 0, 0]],
    ]
    scope = ScopeVectors.build((), [], turns, DIM)
    query = np.array([1, 0, 0, 0, 0, 0, 0, 0], dtype=np.float32)
    ranked = rank_episodes(scope, query, ["work", "bosch"], None, 2)
    by_id = {tid: (vector, keyword) for tid, vector, keyword in ranked}
    # vector: t0 then t3; keyword: t0 says both stems (df 2 each of 4 turns), then t1 or t3
    assert list(by_id)[:2] == ["t0", "t3"]
    assert by_id["t0"][1] == pytest.approx(2 * math.log(1 + 4 / 2))
    assert by_id["t0"][0] == pytest.approx(1.0)
    # as_of drops later turns from both signals and from the document count
    early = rank_episodes(scope, query, ["bosch"], 1500.0, 5)
    assert [(tid, keyword) for tid, _, keyword in early] == [("t0", pytest.approx(math.log(2)))]
    assert [keyword for _, _, keyword in rank_episodes(scope, query, [], None, 3)] == [0.0, 0.0, 0.0]


def test_an_update_replaces_by_id_and_appends():
    rng = random.Random(3)
    rows = _facts(rng, 10)
    turns = [[f"t{i}", float(i), " a ", _vec(rng)] for i in range(4)]
    changed = [rows[2][:3] + [5000.0, rows[2][4]], _facts(rng, 11)[10]]
    changed[1][0] = "f-new"
    new_turns = [["t9", 9.0, " b ", _vec(rng)]]
    updated = ScopeVectors.build((("k", "e", 1),), rows, turns, DIM).updated(
        ScopeVectors.build((("k", "e", 2),), changed, new_turns, DIM)
    )
    expected = ScopeVectors.build(
        (("k", "e", 2),), rows[:2] + [changed[0]] + rows[3:] + [changed[1]], turns + new_turns, DIM
    )
    assert updated.clocks == expected.clocks
    assert updated.fact_ids == expected.fact_ids and updated.turn_ids == expected.turn_ids
    assert updated.relations == expected.relations and updated.turn_stems == expected.turn_stems
    for name in ("fact_vectors", "valid_from", "valid_to", "turn_vectors", "turn_times"):
        np.testing.assert_allclose(getattr(updated, name), getattr(expected, name))


class FakeQueries:
    """The two statements the cache runs, over an in-memory scope: a double of Queries."""

    def __init__(self, facts: list[list[Any]], clocks: list[list[Any]]):
        self.facts = {row[0]: row for row in facts}
        self.revision = {row[0]: 0 for row in facts}
        self.clocks = clocks
        self.calls: list[tuple[str, Any]] = []

    def write(self, row: list[Any]) -> None:
        self.clocks[0][2] += 1
        self.facts[row[0]] = row
        self.revision[row[0]] = self.clocks[0][2]

    def scope_vectors(self, scope: Scope, *, since: int | None, max_items: int, usage: Usage) -> dict[str, Any]:
        self.calls.append(("scope_vectors", since))
        rows = [row for fid, row in self.facts.items() if since is None or self.revision[fid] > since]
        return {"clocks": [list(c) for c in self.clocks], "facts": rows[:max_items], "messages": []}

    def search_cached(
        self, filters: Filters, fact_ids: list[str], message_ids: list[str], *, usage: Usage
    ) -> dict[str, Any]:
        self.calls.append(("search_cached", list(fact_ids)))
        facts = [{"id": fid} for fid in fact_ids if fid in self.facts]
        return {"clocks": [list(c) for c in self.clocks], "facts": facts, "episodes": []}


def _search(cache: VectorCache, query: list[float], scope: Scope | None = None) -> list[str] | None:
    filters = Filters(scope or Scope(user_id="u"), include_invalidated=True)
    got = cache.lists(filters, query, [], facts=3, episodes=0, usage=Usage())
    return None if got is None else [fact["id"] for fact, _ in got.facts]


def test_the_cache_reloads_only_what_changed_and_everything_after_a_deletion():
    rng = random.Random(5)
    queries = FakeQueries(_facts(rng, 6), [["k", "e1", 0]])
    cache = VectorCache(queries, DIM, max_bytes=2**20, background=False)  # type: ignore[arg-type]
    query = _vec(rng)
    first = _search(cache, query)
    assert queries.calls[0] == ("scope_vectors", None) and cache.loads == 1
    assert _search(cache, query) == first and [c[0] for c in queries.calls].count("scope_vectors") == 1
    # another process writes a fact right on the query: the fetch sees the clock move, the
    # cache reloads what the write stamped, and the new fact leads
    queries.write(["f-near", "likes", 0.0, None, query])
    queries.calls.clear()
    assert _search(cache, query)[0] == "f-near"
    assert [c for c in queries.calls if c[0] == "scope_vectors"] == [("scope_vectors", 0)]
    assert cache.refreshes == 1
    # a deletion: a new epoch, a full load, and the deleted fact is gone from the ranking
    del queries.facts["f-near"]
    queries.clocks[0][1] = "e2"
    queries.calls.clear()
    assert "f-near" not in _search(cache, query)
    assert [c for c in queries.calls if c[0] == "scope_vectors"] == [("scope_vectors", None)] and cache.loads == 2


def test_a_scope_above_the_bound_is_left_to_neo4j_and_the_least_recent_is_evicted():
    rng = random.Random(6)
    queries = FakeQueries(_facts(rng, 50), [])
    per_item = 4 * DIM + 200
    cache = VectorCache(queries, DIM, max_bytes=2 * 20 * per_item, background=False)  # type: ignore[arg-type]
    assert cache.max_items == 20
    assert _search(cache, _vec(rng)) is None
    assert _search(cache, _vec(rng)) is None and cache.loads == 1  # found too big once, not loaded again
    small = FakeQueries(_facts(rng, 15), [])
    cache = VectorCache(small, DIM, max_bytes=2 * 20 * per_item, background=False)  # type: ignore[arg-type]
    for user in ("a", "b", "c"):
        assert _search(cache, _vec(rng), Scope(user_id=user)) is not None
    assert cache.nbytes <= cache.max_bytes and cache.loads == 3
    _search(cache, _vec(rng), Scope(user_id="a"))
    assert cache.loads == 4  # "a" had been evicted to make room


def test_a_scope_not_held_is_left_to_neo4j_while_it_loads_in_the_background():
    rng = random.Random(7)
    queries = FakeQueries(_facts(rng, 6), [["k", "e1", 0]])
    cache = VectorCache(queries, DIM, max_bytes=2**20)  # type: ignore[arg-type]
    query = _vec(rng)
    assert _search(cache, query) is None  # the caller scans in Neo4j this time
    cache.wait()
    assert cache.loads == 1 and _search(cache, query) is not None
    # a write elsewhere: what changed is loaded at once, no search is left to Neo4j
    queries.write(["f-near", "likes", 0.0, None, query])
    assert _search(cache, query)[0] == "f-near" and cache.refreshes == 1
    # a deletion: the whole scope again, in the background
    queries.clocks[0][1] = "e2"
    assert _search(cache, query) is None
    cache.wait()
    assert cache.loads == 2 and _search(cache, query) is not None


def test_close_waits_for_a_running_load_and_drops_the_rest():
    """GraphMemory.close closes the driver next: no load may be running on it."""
    import threading
    import time

    rng = random.Random(8)
    queries = FakeQueries(_facts(rng, 6), [["k", "e1", 0]])
    started, loading = threading.Event(), []
    raw = queries.scope_vectors

    def slow(*args: Any, **kwargs: Any) -> dict[str, Any]:
        started.set()
        loading.append(True)
        time.sleep(0.3)
        result = raw(*args, **kwargs)
        loading.pop()
        return result

    queries.scope_vectors = slow  # type: ignore[method-assign]
    cache = VectorCache(queries, DIM, max_bytes=2**20)  # type: ignore[arg-type]
    assert _search(cache, _vec(rng)) is None
    cache.start_loads()
    assert started.wait(5)
    _search(cache, _vec(rng), Scope(user_id="other"))
    cache.start_loads()  # its load queued behind the running one
    cache.close()
    assert loading == [] and cache.loads == 1  # the running load finished, the queued one never ran
    cache.start_loads()
    assert cache.loads == 1
