"""Folding this process's writes into the search cache (graphmem/cache/writes.py): the scope it
then holds is the one a load from Neo4j would give after the same writes, column by column,
and a write that does not follow what is held is left to the clock check."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from graphmem import Scope, Usage
from graphmem.cache.scope_cache import ListRequest, ScopeCache
from graphmem.cache.vectors import ScopeVectors
from graphmem.cache.writes import PendingWrites, Written, advanced, epoch_ms
from graphmem.store.clocks import WriteClock
from graphmem.store.queries import Filters

DIM = 4
T0 = datetime(2025, 3, 1, 12, 0, 0, 123_999, tzinfo=UTC)
T1 = T0 + timedelta(days=2)


def _vec(seed: int) -> list[float]:
    rng = random.Random(seed)
    return [rng.gauss(0, 1) for _ in range(DIM)]


def _build(facts: list[list[Any]], turns: list[list[Any]], entities: list[list[Any]], clocks: Any) -> ScopeVectors:
    return ScopeVectors.rows(clocks, facts, turns, entities, DIM)


HELD_FACTS = [
    ["f1", "lives_in", epoch_ms(T0), None, _vec(1), "e1", "e2", "Anna lives in Berlin. lives_in Anna Berlin"],
    ["f2", "works_at", epoch_ms(T0), None, _vec(2), "e1", "e3", "Anna works at Siemens. works_at Anna Siemens"],
]
HELD_TURNS = [["t1", epoch_ms(T0), " anna live berlin ", _vec(3)]]
HELD_ENTITIES = [
    ["e1", "Anna", "anna", _vec(4)],
    ["e2", "Berlin", "berlin", _vec(5)],
    ["e3", "Siemens", "siemens", None],
]
CLOCKS = (("k", "ep", 3),)


def _params(**lists: list[dict[str, Any]]) -> dict[str, Any]:
    """write_add's parameters, as write.plan.plan_write makes them (the fields folding reads)."""
    return {key: lists.get(key, []) for key in ("messages", "entities", "invalidations", "new_facts", "updates")}


def _entity(node_id: str, name: str, embedding: list[float] | None) -> dict[str, Any]:
    return {"id": node_id, "name": name, "normalized": name.lower(), "embedding": embedding}


MOVE = _params(
    messages=[{"id": "t2", "timestamp": T1, "stems": " anna move munich ", "embedding": _vec(6)}],
    entities=[_entity("e1", "anna", _vec(40)), _entity("e3", "Siemens", _vec(7)), _entity("e4", "Munich", _vec(8))],
    invalidations=[{"id": "f1", "valid_to": T1, "invalidated_by": "f3"}],
    new_facts=[
        {
            "id": "f3",
            "source_id": "e1",
            "target_id": "e4",
            "relation": "lives_in",
            "fact": "Anna moved to Munich.",
            "embedding": _vec(9),
            "valid_from": T1,
        },
    ],  # fmt: skip
    updates=[{"id": "f2", "relation": "works_at", "fact": "Anna leads a team at Siemens.", "embedding": _vec(10)}],
)


def _assert_same(got: ScopeVectors, want: ScopeVectors) -> None:
    assert got.clocks == want.clocks
    for name in ("fact_ids", "relations", "fact_ends", "fact_texts", "fact_words", "turn_ids", "turn_stems"):
        assert getattr(got, name) == getattr(want, name), name
    for name in ("entity_ids", "entity_names", "entity_normalized", "vocabulary"):
        assert getattr(got, name) == getattr(want, name), name
    for name in ("fact_vectors", "valid_from", "valid_to", "turn_vectors", "turn_times", "entity_vectors"):
        np.testing.assert_allclose(getattr(got, name), getattr(want, name), rtol=1e-6, err_msg=name)
    assert list(got.entity_embedded) == list(want.entity_embedded)
    for name in ("word_facts", "entity_facts", "name_entities"):
        a, b = getattr(got, name), getattr(want, name)
        assert a.keys() == b.keys() and all(list(a[k]) == list(b[k]) for k in b), name


def test_a_folded_write_leaves_what_a_load_after_it_would_hold():
    held = _build(HELD_FACTS, HELD_TURNS, HELD_ENTITIES, CLOCKS)
    pending = PendingWrites(held.clocks)
    after = (("k", "ep", 4),)
    assert pending.fold(MOVE, after, held)
    # what cypher/scope_vectors returns after the write: f1 closed, f2's new sentence and
    # vector (same ends), Siemens's first vector, the new fact, turn and entity; a stored
    # entity's name is kept (the add called Anna "anna")
    want = _build(
        [
            [*HELD_FACTS[0][:3], epoch_ms(T1), *HELD_FACTS[0][4:]],
            [
                "f2",
                "works_at",
                epoch_ms(T0),
                None,
                _vec(10),
                "e1",
                "e3",
                "Anna leads a team at Siemens. works_at Anna Siemens",
            ],
            ["f3", "lives_in", epoch_ms(T1), None, _vec(9), "e1", "e4", "Anna moved to Munich. lives_in Anna Munich"],
        ],  # fmt: skip
        [*HELD_TURNS, ["t2", epoch_ms(T1), " anna move munich ", _vec(6)]],
        [*HELD_ENTITIES[:2], ["e3", "Siemens", "siemens", _vec(7)], ["e4", "Munich", "munich", _vec(8)]],
        after,
    )
    _assert_same(held.updated(pending.changes(DIM)), want)


def test_writes_fold_on_one_another_before_they_are_merged():
    held = _build(HELD_FACTS, HELD_TURNS, HELD_ENTITIES, CLOCKS)
    pending = PendingWrites(held.clocks)
    assert pending.fold(MOVE, (("k", "ep", 4),), held)
    # the next write closes the fact the first one added, which only the pending rows hold
    again = _params(
        entities=[_entity("e5", "Hamburg", _vec(11))],
        invalidations=[{"id": "f3", "valid_to": T1 + timedelta(days=1), "invalidated_by": "f4"}],
        new_facts=[
            {
                "id": "f4",
                "source_id": "e1",
                "target_id": "e5",
                "relation": "lives_in",
                "fact": "Anna moved on.",
                "embedding": _vec(12),
                "valid_from": T1 + timedelta(days=1),
            },
        ],  # fmt: skip
    )
    assert pending.fold(again, (("k", "ep", 5),), held)
    merged = held.updated(pending.changes(DIM))
    at = merged.fact_ids.index("f3")
    assert merged.valid_to[at] == epoch_ms(T1 + timedelta(days=1))
    assert merged.fact_texts[merged.fact_ids.index("f4")] == "Anna moved on. lives_in Anna Hamburg"
    assert merged.clocks == (("k", "ep", 5),)


def test_a_write_naming_what_is_not_held_folds_nothing():
    held = _build(HELD_FACTS, HELD_TURNS, HELD_ENTITIES, CLOCKS)
    pending = PendingWrites(held.clocks)
    stray = _params(
        messages=[{"id": "t9", "timestamp": T1, "stems": " x ", "embedding": _vec(13)}],
        invalidations=[{"id": "f-gone", "valid_to": T1, "invalidated_by": "f9"}],
    )
    assert not pending.fold(stray, (("k", "ep", 4),), held)
    assert len(pending) == 0 and pending.clocks == CLOCKS


def test_a_write_follows_the_clocks_held_or_is_left_to_the_clock_check():
    clocks = (("a", "e1", 4), ("c", "e3", 9))
    assert advanced(clocks, WriteClock("a", "e1", 5)) == (("a", "e1", 5), ("c", "e3", 9))
    assert advanced(clocks, WriteClock("b", "e2", 1)) == (("a", "e1", 4), ("b", "e2", 1), ("c", "e3", 9))
    assert advanced(clocks, WriteClock("a", "e1", 6)) is None  # a write in between was missed
    assert advanced(clocks, WriteClock("a", "e1", 4)) is None  # already held
    assert advanced(clocks, WriteClock("a", "other", 5)) is None  # deleted since
    assert advanced(clocks, WriteClock("b", "e2", 2)) is None  # a clock whose first write was missed


@pytest.mark.parametrize(
    ("moment", "millis"),
    [
        (datetime(1970, 1, 1, 0, 0, 0, 1999, tzinfo=UTC), 1.0),
        (datetime(1969, 12, 31, 23, 59, 59, 999_500, tzinfo=UTC), -1.0),  # floor, as epochMillis
        (datetime(2025, 1, 1), 1735689600000.0),  # naive: stored as UTC
    ],
)
def test_epoch_ms_is_whole_milliseconds_rounded_down(moment, millis):
    assert epoch_ms(moment) == millis


class HeldQueries:
    """The cache's two statements over a fixed scope: counts the loads."""

    def __init__(self) -> None:
        self.clocks = [list(c) for c in CLOCKS]
        self.facts = {row[0]: row for row in HELD_FACTS}
        self.calls: list[str] = []

    def scope_vectors(self, scope: Scope, *, since: int | None, max_items: int, usage: Usage) -> dict[str, Any]:
        self.calls.append("scope_vectors")
        return {"clocks": self.clocks, "facts": list(self.facts.values()), "messages": HELD_TURNS,
                "entities": HELD_ENTITIES}  # fmt: skip

    def search_cached(self, filters: Filters, fact_ids: list[str], message_ids: list[str], *, usage: Usage) -> Any:
        self.calls.append("search_cached")
        return {"clocks": self.clocks, "facts": [{"id": f} for f in fact_ids], "episodes": []}


def _top(cache: ScopeCache, query: list[float], scope: Scope) -> list[str]:
    got = cache.lists(Filters(scope), ListRequest(embedding=query, facts=2), usage=Usage())
    assert got is not None
    return [fact["id"] for fact, _ in got.facts]


def test_the_cache_ranks_this_process_writes_without_reading_them_back():
    queries = HeldQueries()
    cache = ScopeCache(queries, DIM, max_bytes=2**20, background=False)
    user, run = Scope(user_id="u"), Scope(user_id="u", run_id="r")
    assert _top(cache, _vec(9), user) and queries.calls == ["scope_vectors", "search_cached"]
    # the add commits (Neo4j's clock moves with it), then tells the cache what it wrote
    queries.clocks = [["k", "ep", 4]]
    queries.facts["f3"] = ["f3"]
    cache.wrote(Written(run, MOVE, WriteClock("k", "ep", 4)))  # a run below the user: seen by its searches
    queries.calls.clear()
    assert _top(cache, _vec(9), user)[0] == "f3"  # the new fact, right on the query
    assert queries.calls == ["search_cached"] and cache.folded == 1 and cache.refreshes == 0
    # a write another scope made is not folded; one that skips a revision is left to the check
    cache.wrote(Written(Scope(user_id="other"), MOVE, WriteClock("k2", "ep", 1)))
    cache.wrote(Written(user, MOVE, WriteClock("k", "ep", 6)))
    assert cache.folded == 1


def test_writes_waiting_past_merge_after_are_merged_in_the_background():
    queries = HeldQueries()
    cache = ScopeCache(queries, DIM, max_bytes=2**20, merge_after=1)
    user = Scope(user_id="u")
    assert cache.lists(Filters(user), ListRequest(embedding=_vec(9), facts=2), usage=Usage()) is None
    cache.wait()  # loaded in the background
    queries.clocks = [["k", "ep", 4]]
    queries.facts["f3"] = ["f3"]
    cache.wrote(Written(user, MOVE, WriteClock("k", "ep", 4)))
    cache.wait()
    # merged before any search asked: nothing waits, and the held scope has the write
    assert not cache._pending and cache._scopes[user.key].clocks == (("k", "ep", 4),)
    assert "f3" in cache._scopes[user.key].fact_ids
    queries.calls.clear()
    assert _top(cache, _vec(9), user)[0] == "f3" and queries.calls == ["search_cached"]
    cache.close()
