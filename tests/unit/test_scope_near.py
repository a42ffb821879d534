"""An add's nearest stored entities and facts ranked from the held scope (graphmem/cache/near.py)
as cypher/match_entities' scan and cypher/conflict_candidates' index branch would find them, and
when the cache offers a scope for it at all (ScopeCache.held). The Neo4j side, with the
clock check, is in tests/integration/test_pipeline.py."""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from graphmem import Scope, Usage
from graphmem.cache.near import HeldScope
from graphmem.cache.scope_cache import ListRequest, ScopeCache
from graphmem.cache.vectors import EntityRow, FactRow, ScopeVectors
from graphmem.cache.writes import Written
from graphmem.store.clocks import WriteClock
from graphmem.store.ids import scope_clock_id
from graphmem.store.queries import Filters

DIM = 6
USER = Scope(user_id="u")


def _vec(seed: int) -> list[float]:
    rng = random.Random(seed)
    return [rng.gauss(0, 1) for _ in range(DIM)]


def _neo4j_score(a: list[float], b: list[float]) -> float:
    """vector.similarity.cosine: (1 + cosine) / 2."""
    x, y = np.asarray(a), np.asarray(b)
    return float((1 + x @ y / (np.linalg.norm(x) * np.linalg.norm(y))) / 2)


ENTITIES = [[f"e{i}", f"Name {i}", f"name {i}", _vec(i) if i != 3 else None] for i in range(8)]
FACTS = [
    [f"f{i}", "likes", 0.0, None if i % 3 else 5.0, _vec(100 + i), "e0", f"e{i % 8}", f"text {i}"] for i in range(12)
]


def _held(pending_entities: dict[str, list[Any]] | None = None, pending_facts: dict[str, list[Any]] | None = None):
    entities = {k: EntityRow(*row) for k, row in (pending_entities or {}).items()}
    facts = {k: FactRow(*row) for k, row in (pending_facts or {}).items()}
    scope = ScopeVectors.rows(((scope_clock_id(USER), "ep", 4),), FACTS, [], ENTITIES, DIM)
    return HeldScope(epoch="ep", revision=4, scope=scope, pending_entities=entities, pending_facts=facts)


def _reference(rows: list[tuple[str, list[float]]], query: list[float], keep: int, min_score: float | None):
    scored = sorted(((_neo4j_score(query, vector), item_id) for item_id, vector in rows), key=lambda x: -x[0])
    return [(item_id, score) for score, item_id in scored[:keep] if min_score is None or score >= min_score]


def _ids_scores(found: list[dict[str, Any]]) -> list[tuple[str, float]]:
    return [(row["id"], round(row["score"], 5)) for row in found]


def _rounded(rows: list[tuple[str, float]]) -> list[tuple[str, float]]:
    return [(item_id, round(score, 5)) for item_id, score in rows]


def test_nearest_entities_are_the_embedded_ones_nearest_on_neo4j_scale():
    queries = [_vec(50), _vec(51)]
    got = _held().nearest_entities(queries, keep=3)
    embedded = [(e[0], e[3]) for e in ENTITIES if e[3] is not None]  # e3 has no vector: never a neighbour
    assert [_ids_scores(g) for g in got] == [_rounded(_reference(embedded, q, 3, None)) for q in queries]


def test_entities_folded_since_the_merge_replace_and_join_the_held_ones():
    pending = {
        "e3": ["e3", "Name 3", "name 3", _vec(60)],  # a stored node's first vector
        "e1": ["e1", "Name 1", "name 1", _vec(61)],  # replaced by id
        "e9": ["e9", "New", "new", _vec(62)],  # created since
    }
    query = _vec(60)
    [got] = _held(pending_entities=pending).nearest_entities([query], keep=20)
    vectors = {e[0]: e[3] for e in ENTITIES if e[3] is not None} | {k: v[3] for k, v in pending.items()}
    assert _ids_scores(got) == _rounded(_reference(list(vectors.items()), query, 20, None))
    assert got[0]["id"] == "e3" and round(got[0]["score"], 5) == 1.0


def test_nearest_facts_are_valid_ones_above_the_threshold():
    pending = {
        "f1": [*FACTS[1][:3], 9.0, *FACTS[1][4:]],  # invalidated since the merge
        "f20": ["f20", "likes", 0.0, None, _vec(70), "e0", "e2", "new"],  # created since
    }
    query = _vec(101)
    [got] = _held(pending_facts=pending).nearest_facts([query], k=4, min_score=0.55)
    valid = [(f[0], f[4]) for f in FACTS if f[3] is None and f[0] != "f1"] + [("f20", _vec(70))]
    want = _reference(valid, query, 4, 0.55)
    assert _ids_scores(got) == _rounded(want)
    assert "f1" not in {row["id"] for row in got} and all(row["score"] >= 0.55 for row in got)


class ScopeQueries:
    """The cache's two statements over one scope whose clocks the test sets."""

    def __init__(self, clocks: list[list[Any]]):
        self.clocks = clocks

    def scope_vectors(self, scope: Scope, *, since: int | None, max_items: int, usage: Usage) -> dict[str, Any]:
        return {"clocks": self.clocks, "facts": FACTS, "messages": [], "entities": ENTITIES}

    def search_cached(self, filters: Filters, fact_ids: list[str], message_ids: list[str], *, usage: Usage) -> Any:
        return {"clocks": self.clocks, "facts": [{"id": f} for f in fact_ids], "episodes": []}


def _loaded(clocks: list[list[Any]]) -> ScopeCache:
    cache = ScopeCache(ScopeQueries(clocks), DIM, max_bytes=2**20, background=False)
    assert cache.lists(Filters(USER), ListRequest(embedding=_vec(1), facts=2), usage=Usage()) is not None
    return cache


def test_the_cache_offers_a_scope_only_when_it_is_exactly_the_adds_scope():
    own = [scope_clock_id(USER), "ep", 4]
    assert _loaded([own]).held(USER) is not None
    # a run below the user wrote too: the held scope has its items, which the add must not see
    assert _loaded([own, [scope_clock_id(Scope(user_id="u", run_id="r")), "ep2", 1]]).held(USER) is None
    assert _loaded([own]).held(Scope(user_id="other")) is None  # not held


def test_the_snapshot_has_the_writes_folded_since_and_their_revision():
    cache = _loaded([[scope_clock_id(USER), "ep", 4]])
    write = {"messages": [], "entities": [{"id": "e9", "name": "New", "normalized": "new", "embedding": _vec(62)}],
             "invalidations": [], "new_facts": [], "updates": []}  # fmt: skip
    cache.wrote(Written(USER, write, WriteClock(scope_clock_id(USER), "ep", 5)))
    held = cache.held(USER)
    assert held is not None and (held.epoch, held.revision) == ("ep", 5)
    assert held.nearest_entities([_vec(62)], keep=1)[0][0]["id"] == "e9"
