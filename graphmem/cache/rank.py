"""The search lists, ranked from a cached scope (graphmem/cache/vectors.py) as the exact scans
in Neo4j rank them: triplet (cypher/search_triplets), keyword (search_keyword), episode
(search_episodes), the query's seed entities (fragments/seed_entities) and their facts one
hop out (fragments/expand). Pure functions; tests/unit/test_scope_cache.py holds each to a
row-by-row reference. Ties break by id, as the statements' ORDER BY does."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .._terms import WordTerm
from ..store.queries import SEED_DECIMALS
from .vectors import NEVER, ScopeVectors

__all__ = [
    "CacheFilter",
    "expand_seeds",
    "fact_mask",
    "fact_similarity",
    "rank_episodes",
    "rank_facts",
    "rank_keyword",
    "seed_entities",
]


@dataclass(frozen=True)
class CacheFilter:
    """What cypher/fragments/fact_filter and message_filter apply, as the cache can: times in
    epoch ms, relation names (a search filtered on entity types does not use the cache)."""

    as_of: float | None = None
    include_invalidated: bool = False
    relations: frozenset[str] | None = None


def fact_mask(scope: ScopeVectors, where: CacheFilter) -> np.ndarray:
    """Which facts pass fragments/fact_filter."""
    if where.as_of is not None:
        keep = (scope.valid_from <= where.as_of) & (scope.valid_to > where.as_of)
    elif where.include_invalidated:
        keep = np.ones(len(scope.fact_ids), dtype=bool)
    else:
        keep = scope.valid_to == NEVER
    if where.relations is not None:
        keep &= np.array([r in where.relations for r in scope.relations], dtype=bool)
    return keep


def fact_similarity(scope: ScopeVectors, query: np.ndarray) -> np.ndarray:
    """Each fact's vector.similarity.cosine to the (unit) query vector: (1 + cosine) / 2."""
    similarity: np.ndarray = (1.0 + scope.fact_vectors @ query) / 2.0
    return similarity


def rank_facts(similarity: np.ndarray, scope: ScopeVectors, keep: np.ndarray, limit: int) -> list[tuple[int, float]]:
    """search_triplets' exact scan: the facts nearest to the query that pass the filter, as
    (position, similarity), best first."""
    return _top(scope.fact_ids, similarity, keep, limit)


def rank_keyword(
    scope: ScopeVectors, terms: Sequence[WordTerm], keep: np.ndarray, limit: int
) -> list[tuple[int, float]]:
    """search_keyword's exact scan: each term a fact says (as a whole word of its sentence,
    relation and end names) weighs log(1 + n / df) over the n facts that pass the filter,
    summed in the terms' order; the facts with a score, as (position, score), best first."""
    if limit <= 0 or not terms:
        return []
    n = int(keep.sum())
    score = np.zeros(len(scope.fact_ids), dtype=np.float64)
    for term in terms:
        says = np.zeros(len(scope.fact_ids), dtype=bool)
        says[scope.facts_saying(term)] = True
        says &= keep
        df = int(says.sum())
        if df:
            score += np.where(says, math.log(1.0 + n / df), 0.0)
    return _top(scope.fact_ids, score, keep & (score > 0), limit)


def rank_episodes(
    scope: ScopeVectors, query: np.ndarray, stems: Sequence[str], as_of: float | None, limit: int
) -> list[tuple[str, float, float]]:
    """search_episodes' exact scan: the turns best by vector ((1 + cosine) / 2) and the turns
    best by keyword (each of the query's stems a turn says weighs log(1 + n / df) over the
    scope's n turns), `limit` of each, as (id, vector, keyword)."""
    if limit <= 0 or not scope.turn_ids:
        return []
    keep = np.ones(len(scope.turn_ids), dtype=bool) if as_of is None else scope.turn_times <= as_of
    n = int(keep.sum())
    vector = (1.0 + scope.turn_vectors @ query) / 2.0
    keyword = np.zeros(len(scope.turn_ids), dtype=np.float64)
    for stem in dict.fromkeys(stems):
        says = np.array([f" {stem} " in said for said in scope.turn_stems], dtype=bool) & keep
        df = int(says.sum())
        if df:
            keyword += says * math.log(1.0 + n / df)
    chosen = dict.fromkeys(i for i, _ in _top(scope.turn_ids, vector, keep, limit))
    chosen.update(dict.fromkeys(i for i, _ in _top(scope.turn_ids, keyword, keep & (keyword > 0), limit)))
    return [(scope.turn_ids[i], float(vector[i]), float(keyword[i])) for i in chosen]


def seed_entities(
    scope: ScopeVectors,
    words: Sequence[str],
    query: np.ndarray,
    *,
    min_vector_score: float,
    vector_seeds: int,
    seeds: int,
) -> list[tuple[int, float]]:
    """fragments/seed_entities: the entities whose name words are among the query's words,
    weighted by the share of the name matched; only when none is named, the `vector_seeds`
    entities nearest to the query, if at least `min_vector_score`. As (position, weight),
    best first, at most `seeds`."""
    asked = set(words)
    named: dict[int, float] = {}
    for word in asked:
        for at in scope.name_entities.get(word, ()):
            name_words = scope.entity_normalized[int(at)].split(" ")
            named[int(at)] = sum(1 for w in name_words if w in asked) / len(name_words)
    if named:
        ranked = sorted(named.items(), key=lambda item: (-item[1], scope.entity_ids[item[0]]))
        return ranked[:seeds]
    if not scope.entity_ids:
        return []
    # rounded as fragments/seed_entities rounds: the same name in a scope and a scope below it
    # embeds ~1e-7 apart, which float32 here and Neo4j there may order either way
    similarity = np.round(((1.0 + scope.entity_vectors @ query) / 2.0).astype(np.float64), SEED_DECIMALS)
    nearest = _top(scope.entity_ids, similarity, scope.entity_embedded & (similarity >= min_vector_score), vector_seeds)
    return nearest[:seeds]


def expand_seeds(
    scope: ScopeVectors,
    seeds: Sequence[tuple[int, float]],
    similarity: np.ndarray,
    keep: np.ndarray,
    fanout: int,
) -> list[tuple[int, float, str, str, float]]:
    """fragments/expand from each seed: its facts that pass the filter, at most `fanout`,
    most similar to the query first, as (fact position, similarity, the node at the other
    end, the seed's id, the seed's weight)."""
    rows = []
    for at, weight in seeds:
        node = scope.entity_ids[at]
        around = scope.entity_facts.get(node)
        if around is None:
            continue
        for fact, score in _best(scope.fact_ids, similarity, around[keep[around]], fanout):
            source, target = scope.fact_ends[fact]
            rows.append((fact, score, target if source == node else source, node, weight))
    return rows


def _top(ids: Sequence[str], scores: np.ndarray, keep: np.ndarray, limit: int) -> list[tuple[int, float]]:
    """The `limit` best positions that `keep` allows, as (position, score), best first."""
    return _best(ids, scores, np.flatnonzero(keep), limit)


def _best(ids: Sequence[str], scores: np.ndarray, candidates: np.ndarray, limit: int) -> list[tuple[int, float]]:
    """The `limit` best of the `candidates` positions, as (position, score), best first; equal
    scores by id (all those tied at the cut are sorted before the cut is made)."""
    if limit <= 0:
        return []
    if len(candidates) > limit:
        cut = scores[candidates[np.argpartition(-scores[candidates], limit - 1)[limit - 1]]]
        candidates = candidates[scores[candidates] >= cut]
    ranked = sorted(
        zip(candidates.tolist(), scores[candidates].tolist(), strict=True), key=lambda x: (-x[1], ids[x[0]])
    )
    return ranked[:limit]
