"""The search's scope cache (graphmem/cache/scope_cache.py): what it reloads when a scope's clocks
move, and that it ranks (graphmem/cache/rank.py) as the exact scans of cypher/search_triplets,
search_keyword, search_episodes and fragments/seed_entities and expand do, row by row.
The Neo4j side is tests/integration/test_search_cache.py."""

from __future__ import annotations

import math
import random
import re
from typing import Any

import numpy as np
import pytest

from graphmem import Scope, Usage
from graphmem._terms import query_words, word_patterns, word_terms
from graphmem.cache.rank import (
    SEED_DECIMALS,
    CacheFilter,
    expand_seeds,
    fact_mask,
    fact_similarity,
    rank_episodes,
    rank_facts,
    rank_keyword,
    seed_entities,
)
from graphmem.cache.scope_cache import ListRequest, ScopeCache, reload_from
from graphmem.cache.vectors import ScopeVectors
from graphmem.store.queries import Filters

DIM = 8
WORDS = "Anna anna's Bosch works worked working work Berlin lives age again ages us marathon Straße café".split()


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


def _facts(rng: random.Random, n: int, entities: int = 8) -> list[list[Any]]:
    """Rows as cypher/scope_vectors returns them: [id, relation, valid_from, valid_to,
    embedding, source id, target id, text]."""
    rows = []
    for i in range(n):
        start = rng.randrange(0, 100) * 1000.0
        end = None if rng.random() < 0.6 else start + rng.randrange(1, 50) * 1000.0
        source, target = rng.randrange(entities), rng.randrange(entities)
        relation = rng.choice(["lives_in", "works_at", "likes"])
        text = " ".join(rng.choices(WORDS, k=rng.randrange(1, 6))) + f". {relation} e{source} e{target}"
        rows.append([f"f{i:02d}", relation, start, end, _vec(rng), f"e{source}", f"e{target}", text])
    return rows


def _entities(rng: random.Random, n: int) -> list[list[Any]]:
    """[id, name, normalized, embedding or None]; names of one to three words, some shared."""
    rows = []
    for i in range(n):
        name = " ".join(
            rng.sample(["anna", "bosch", "berlin", "jonas", "lena", "wayne", "enterprises"], rng.randrange(1, 4))
        )
        rows.append([f"e{i}", name.title(), name, None if rng.random() < 0.1 else _vec(rng)])
    return rows


def _build(
    facts: list[list[Any]],
    turns: list[list[Any]] | None = None,
    entities: list[list[Any]] | None = None,
    clocks: tuple[Any, ...] = (),
) -> ScopeVectors:
    return ScopeVectors.rows(clocks, facts, turns or [], entities or [], DIM)


def _unit(rng: random.Random) -> np.ndarray:
    query = np.array(_vec(rng), dtype=np.float32)
    return query / np.linalg.norm(query)


def _cosine(a: list[float], b: np.ndarray) -> float:
    x = np.array(a)
    return float(x @ b / np.linalg.norm(x) / np.linalg.norm(b))


def _passes(row: list[Any], where: CacheFilter) -> bool:
    """cypher/fragments/fact_filter, on one row."""
    _, relation, start, end = row[:4]
    if where.as_of is not None:
        ok = start <= where.as_of and (end is None or end > where.as_of)
    else:
        ok = where.include_invalidated or end is None
    return ok and (where.relations is None or relation in where.relations)


def _reference_facts(rows: list[list[Any]], query: np.ndarray, where: CacheFilter, limit: int) -> list[str]:
    """search_triplets' exact scan and ORDER BY score DESC, f.id, row by row."""
    kept = [(-(1 + _cosine(row[4], query)) / 2, row[0]) for row in rows if _passes(row, where)]
    return [fid for _, fid in sorted(kept)[:limit]]


def _where(rng: random.Random) -> CacheFilter:
    return rng.choice(
        [
            CacheFilter(),
            CacheFilter(include_invalidated=True),
            CacheFilter(as_of=rng.randrange(0, 120) * 1000.0),
            CacheFilter(relations=frozenset({"works_at", "likes"})),
        ]
    )


@pytest.mark.parametrize("seed", range(20))
def test_facts_rank_as_the_exact_scan_does(seed):
    rng = random.Random(seed)
    rows = _facts(rng, rng.randrange(0, 60))
    scope = _build(rows)
    query, where, limit = _unit(rng), _where(rng), rng.randrange(1, 20)
    ranked = rank_facts(fact_similarity(scope, query), scope, fact_mask(scope, where), limit)
    assert [scope.fact_ids[at] for at, _ in ranked] == _reference_facts(rows, query, where, limit)
    assert all(0.0 <= score <= 1.0 for _, score in ranked)


def test_turns_rank_by_vector_and_by_the_weight_of_the_stems_they_say():
    turns = [
        ["t0", 1000.0, " i work at bosch ", [1, 0, 0, 0, 0, 0, 0, 0]],
        ["t1", 2000.0, " jona work late ", [0, 1, 0, 0, 0, 0, 0, 0]],
        ["t2", 3000.0, " marathon train ", [0, 0, 1, 0, 0, 0, 0, 0]],
        ["t3", 4000.0, " bosch bosch ", [0.9, 0.1, 0, 0, 0, 0, 0, 0]],
    ]
    scope = _build([], turns)
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


def _reference_keyword(
    rows: list[list[Any]], words: list[str], where: CacheFilter, limit: int
) -> list[tuple[str, float]]:
    """search_keyword's exact scan, row by row: each pattern matched as a whole word of the
    text, case-insensitively, weighing log(1 + n / df), summed in the patterns' order."""
    patterns = word_patterns(words)
    kept = [row for row in rows if _passes(row, where)]
    matched = {row[0]: [bool(re.search(rf"(?isu)\b(?:{p})\b", row[7])) for p in patterns] for row in kept}
    df = [sum(m[i] for m in matched.values()) for i in range(len(patterns))]
    scored = []
    for fid, says in matched.items():
        score = 0.0
        for i, said in enumerate(says):
            score += math.log(1.0 + len(kept) / df[i]) if said else 0.0
        if score > 0:
            scored.append((-score, fid))
    return [(fid, -score) for score, fid in sorted(scored)[:limit]]


@pytest.mark.parametrize("seed", range(30))
def test_keyword_ranks_as_the_exact_scan_does(seed):
    rng = random.Random(100 + seed)
    rows = _facts(rng, rng.randrange(0, 60))
    scope = _build(rows)
    words = query_words(" ".join(rng.sample(WORDS, rng.randrange(1, 5))))
    where, limit = _where(rng), rng.randrange(1, 30)
    ranked = rank_keyword(scope, word_terms(words), fact_mask(scope, where), limit)
    expected = _reference_keyword(rows, words, where, limit)
    assert [(scope.fact_ids[at], pytest.approx(score)) for at, score in ranked] == expected


def test_keyword_matches_whole_words_and_stems_as_prefixes():
    rows = _facts(random.Random(1), 3)
    texts = ["Anna worked at Bosch. works_at e1 e2", "The age of the band. likes e3 e4", "Again and again. likes e5 e6"]
    for row, text in zip(rows, texts, strict=True):
        row[3], row[7] = None, text
    scope = _build(rows)
    keep = fact_mask(scope, CacheFilter())

    def found(query: str) -> list[str]:
        return [scope.fact_ids[at] for at, _ in rank_keyword(scope, word_terms(query_words(query)), keep, 10)]

    assert found("where does she work?") == ["f00"]  # "work" finds "worked" and works_at
    assert found("her age") == ["f01"]  # a stem of three letters only whole: not "again"
    assert found("ANNA") == ["f00"] and found("bosch's") == ["f00"]
    assert found("berlin") == []


def _reference_seeds(
    entities: list[list[Any]],
    words: list[str],
    query: np.ndarray,
    vector_seeds: int,
    seeds: int,
    min_score: float = 0.5,
) -> list[tuple[str, float]]:
    """fragments/seed_entities, row by row."""
    named = []
    for eid, _, normalized, _ in entities:
        name_words = normalized.split(" ")
        share = sum(1 for w in name_words if w in words) / len(name_words)
        if share > 0:
            named.append((-share, eid))
    if named:
        return [(eid, -w) for w, eid in sorted(named)[:seeds]]
    near = [(-round((1 + _cosine(v, query)) / 2, SEED_DECIMALS), eid) for eid, _, _, v in entities if v is not None]
    near = sorted(n for n in near if -n[0] >= min_score)[:vector_seeds]
    return [(eid, -w) for w, eid in near[:seeds]]


@pytest.mark.parametrize("seed", range(20))
def test_seeds_are_the_named_entities_else_the_nearest(seed):
    rng = random.Random(200 + seed)
    entities = _entities(rng, rng.randrange(0, 25))
    scope = _build([], [], entities)
    query = _unit(rng)
    words = rng.sample(["anna", "bosch", "lena", "wayne", "zurich", "where"], rng.randrange(0, 3))
    seeds = seed_entities(scope, words, query, min_vector_score=0.5, vector_seeds=3, seeds=4)
    expected = _reference_seeds(entities, words, query, 3, 4)
    assert [(scope.entity_ids[at], pytest.approx(w)) for at, w in seeds] == expected


@pytest.mark.parametrize("seed", range(20))
def test_seeds_expand_to_their_nearest_facts_that_pass_the_filter(seed):
    rng = random.Random(300 + seed)
    rows, entities = _facts(rng, rng.randrange(0, 80), entities=6), _entities(rng, 6)
    scope = _build(rows, [], entities)
    query, where, fanout = _unit(rng), _where(rng), rng.randrange(1, 8)
    seeds = [(at, rng.random()) for at in rng.sample(range(6), rng.randrange(1, 4))]
    got = expand_seeds(scope, seeds, fact_similarity(scope, query), fact_mask(scope, where), fanout)
    expected = []
    for at, weight in seeds:
        node = f"e{at}"
        around = [
            (-(1 + _cosine(r[4], query)) / 2, r[0], r) for r in rows if node in (r[5], r[6]) and _passes(r, where)
        ]
        for sim, fid, r in sorted(around)[:fanout]:
            expected.append((fid, pytest.approx(-sim), r[6] if r[5] == node else r[5], node, weight))
    assert [(scope.fact_ids[f], sim, nxt, frm, w) for f, sim, nxt, frm, w in got] == expected


def test_an_update_replaces_by_id_and_appends_and_keeps_the_postings_in_step():
    rng = random.Random(3)
    rows, entities = _facts(rng, 10), _entities(rng, 8)
    turns = [[f"t{i}", float(i), " a ", _vec(rng)] for i in range(4)]
    changed = [rows[2][:3] + [5000.0, rows[2][4], rows[2][5], rows[2][6], "Lena moved to Zurich. lives_in e1 e2"]]
    changed.append(_facts(rng, 11)[10])
    changed[1][0] = "f-new"
    new_turns = [["t9", 9.0, " b ", _vec(rng)]]
    new_entities = [["e-new", "Zurich", "zurich", _vec(rng)]]
    updated = _build(rows, turns, entities, (("k", "e", 1),)).updated(
        _build(changed, new_turns, new_entities, (("k", "e", 2),))
    )
    expected = _build(
        rows[:2] + [changed[0]] + rows[3:] + [changed[1]], turns + new_turns, entities + new_entities, (("k", "e", 2),)
    )
    assert updated.clocks == expected.clocks
    for name in (
        "fact_ids",
        "turn_ids",
        "entity_ids",
        "relations",
        "turn_stems",
        "fact_ends",
        "fact_words",
        "entity_names",
        "entity_normalized",
        "vocabulary",
    ):
        assert getattr(updated, name) == getattr(expected, name), name
    for name in (
        "fact_vectors",
        "valid_from",
        "valid_to",
        "turn_vectors",
        "turn_times",
        "entity_vectors",
        "entity_embedded",
    ):
        np.testing.assert_allclose(getattr(updated, name), getattr(expected, name))
    for name in ("word_facts", "entity_facts", "name_entities"):
        got, want = getattr(updated, name), getattr(expected, name)
        assert got.keys() == want.keys() and all(list(got[k]) == list(want[k]) for k in want), name
    assert "zurich" in updated.word_facts and "moved" in updated.vocabulary


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
        return {"clocks": [list(c) for c in self.clocks], "facts": rows[:max_items], "messages": [], "entities": []}

    def search_cached(
        self, filters: Filters, fact_ids: list[str], message_ids: list[str], *, usage: Usage
    ) -> dict[str, Any]:
        self.calls.append(("search_cached", list(fact_ids)))
        facts = [{"id": fid} for fid in fact_ids if fid in self.facts]
        return {"clocks": [list(c) for c in self.clocks], "facts": facts, "episodes": []}


def _search(cache: ScopeCache, query: list[float], scope: Scope | None = None) -> list[str] | None:
    filters = Filters(scope or Scope(user_id="u"), include_invalidated=True)
    got = cache.lists(filters, ListRequest(embedding=query, facts=3), usage=Usage())
    return None if got is None else [fact["id"] for fact, _ in got.facts]


def test_the_cache_reloads_only_what_changed_and_everything_after_a_deletion():
    rng = random.Random(5)
    queries = FakeQueries(_facts(rng, 6), [["k", "e1", 0]])
    cache = ScopeCache(queries, DIM, max_bytes=2**20, background=False)
    query = _vec(rng)
    first = _search(cache, query)
    assert queries.calls[0] == ("scope_vectors", None) and cache.loads == 1
    assert _search(cache, query) == first and [c[0] for c in queries.calls].count("scope_vectors") == 1
    # another process writes a fact right on the query: the fetch sees the clock move, the
    # cache reloads what the write stamped, and the new fact leads
    queries.write(["f-near", "likes", 0.0, None, query, "e1", "e2", "near"])
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
    per_item = 4 * DIM + 400
    cache = ScopeCache(queries, DIM, max_bytes=2 * 20 * per_item, background=False)
    assert cache.max_items == 20
    assert _search(cache, _vec(rng)) is None
    assert _search(cache, _vec(rng)) is None and cache.loads == 1  # found too big once, not loaded again
    small = FakeQueries(_facts(rng, 15), [])
    cache = ScopeCache(small, DIM, max_bytes=2 * 20 * per_item, background=False)
    for user in ("a", "b", "c"):
        assert _search(cache, _vec(rng), Scope(user_id=user)) is not None
    assert cache.nbytes <= cache.max_bytes and cache.loads == 3
    _search(cache, _vec(rng), Scope(user_id="a"))
    assert cache.loads == 4  # "a" had been evicted to make room


def test_a_scope_not_held_is_left_to_neo4j_while_it_loads_in_the_background():
    rng = random.Random(7)
    queries = FakeQueries(_facts(rng, 6), [["k", "e1", 0]])
    cache = ScopeCache(queries, DIM, max_bytes=2**20)
    query = _vec(rng)
    assert _search(cache, query) is None  # the caller scans in Neo4j this time
    cache.wait()
    assert cache.loads == 1 and _search(cache, query) is not None
    # a write elsewhere: what changed is loaded at once, no search is left to Neo4j
    queries.write(["f-near", "likes", 0.0, None, query, "e1", "e2", "near"])
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
    cache = ScopeCache(queries, DIM, max_bytes=2**20)
    assert _search(cache, _vec(rng)) is None
    cache.start_loads()
    assert started.wait(5)
    _search(cache, _vec(rng), Scope(user_id="other"))
    cache.start_loads()  # its load queued behind the running one
    cache.close()
    assert loading == [] and cache.loads == 1  # the running load finished, the queued one never ran
    cache.start_loads()
    assert cache.loads == 1


def test_names_embedded_a_hair_apart_tie_and_rank_by_id_as_in_neo4j():
    # the speaker's node in a scope and in a scope below it: one name, embedded in two batches
    rng = random.Random(5)
    query, vector = _unit(rng), np.array(_unit(rng))
    nudged = vector + 1e-7 * np.sign(np.array(query))  # a hair (1e-7) nearer to the query
    scope = _build([], [], [["e1", "user", "user", vector.tolist()], ["e2", "user", "user", nudged.tolist()]])
    seeds = seed_entities(scope, [], query, min_vector_score=0.0, vector_seeds=1, seeds=1)
    assert [scope.entity_ids[at] for at, _ in seeds] == ["e1"]  # what ORDER BY weight DESC, node.id keeps
