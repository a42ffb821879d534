"""Fusion, pure (no I/O): reciprocal-rank fusion of the fact lists (mode hybrid), of a turn's
vector and keyword ranks (the episode list), and associative recall's blend of the walk's
ranking with the lists' reciprocal ranks (`blend`, with `walk_floor` bounding the walk)."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import TYPE_CHECKING

from .results import EpisodeHit, SearchHit, Signal, episode_from_record

if TYPE_CHECKING:
    from .._models import Fact
    from ..store.queries import EpisodeRow, Filters, GraphRow
    from .results import Ranked
    from .spread import Reach

__all__ = ["RRF_K", "blend", "fuse", "fuse_episodes", "list_bonus", "walk_floor"]

RRF_K = 60  # the usual reciprocal-rank-fusion constant: damps the weight of top ranks


def list_bonus(lists: dict[str, Ranked]) -> dict[str, float]:
    """Each listed fact's reciprocal-rank points, summed over the lists (blend adds them to
    the walk's score)."""
    bonus: dict[str, float] = {}
    for items in lists.values():
        for rank, (fact, _, _) in enumerate(items, start=1):
            bonus[fact.id] = bonus.get(fact.id, 0.0) + 1.0 / (RRF_K + rank)
    return bonus


def walk_floor(reached: dict[str, Reach], bonus: dict[str, float], limit: int) -> float:
    """The walk score a fact needs to change blend's top `limit`: the `limit`-th best blended
    score so far, less the largest bonus a fact could add to it. Scores only grow as the
    walk goes on, so a path whose facts all stay below this cannot change the results."""
    scores = {fact_id: reach.score for fact_id, reach in reached.items()}
    for fact_id, points in bonus.items():
        scores[fact_id] = scores.get(fact_id, 0.0) + points
    if len(scores) < limit:
        return 0.0
    return heapq.nlargest(limit, scores.values())[-1] - max(bonus.values(), default=0.0)


def blend(
    reached: dict[str, Reach],
    links: dict[str, GraphRow],
    lists: dict[str, Ranked],
    bonus: dict[str, float],
    filters: Filters,
    limit: int,
    fetch: Callable[[list[str]], dict[str, Fact]],
) -> list[SearchHit]:
    """The walk's ranking, with the triplet and keyword lists' reciprocal ranks as a tie-breaker
    and as the only score of facts the walk did not reach; the types / relations filters
    apply to the results, not to the chains that led to them. The walk read light rows
    (`links`): the top `limit` facts no list returned whole come from `fetch`. `bonus`: the
    lists' reciprocal-rank points per fact (list_bonus, computed once per search)."""
    known: dict[str, Fact] = {}
    scores: dict[str, float] = {fact_id: reach.score for fact_id, reach in reached.items()}
    signals: dict[str, dict[str, Signal]] = {fact_id: {} for fact_id in scores}
    for fact_id, points in bonus.items():
        scores[fact_id] = scores.get(fact_id, 0.0) + points
    for signal, items in lists.items():
        for rank, (fact, score, _) in enumerate(items, start=1):
            known[fact.id] = fact
            signals.setdefault(fact.id, {})[signal] = Signal(rank=rank, score=score)

    def passes(fact_id: str) -> bool:
        fact = known.get(fact_id)
        if fact is not None:
            return _passes(fact.relation, fact.source_type, fact.target_type, filters)
        link = links[fact_id]
        return _passes(link["relation"], link["source_type"], link["target_type"], filters)

    ranked = sorted((i for i in scores if passes(i)), key=lambda i: scores[i], reverse=True)[:limit]
    missing = [i for i in ranked if i not in known]
    if missing:
        known.update(fetch(missing))
    hits, graph_rank = [], 0
    for fact_id in (i for i in ranked if i in known):
        reach = reached.get(fact_id)
        hit = SearchHit(fact=known[fact_id], score=scores[fact_id], signals=signals[fact_id])
        if reach is not None:
            graph_rank += 1
            hit.hops, hit.via = reach.hops, list(reach.via)
            hit.signals = {"graph": Signal(rank=graph_rank, score=reach.score), **signals[fact_id]}
        hits.append(hit)
    return hits


def _passes(relation: str, source_type: str | None, target_type: str | None, filters: Filters) -> bool:
    types, relations = filters.types, filters.relations
    if types and source_type not in types and target_type not in types:
        return False
    return not relations or relation in relations


def fuse(lists: dict[str, Ranked]) -> list[SearchHit]:
    """Reciprocal-rank fusion, deduplicated by fact id, with each signal's rank kept."""
    bonus = list_bonus(lists)
    hits: dict[str, SearchHit] = {}
    for signal, items in lists.items():
        for rank, (fact, score, hop) in enumerate(items, start=1):
            hit = hits.setdefault(fact.id, SearchHit(fact=fact, score=bonus[fact.id], hops=hop))
            hit.signals[signal] = Signal(rank=rank, score=score)
            if hop is not None:
                hit.hops = hop
    return sorted(hits.values(), key=lambda h: h.score, reverse=True)


def fuse_episodes(rows: list[EpisodeRow]) -> list[EpisodeHit]:
    """The turns of cypher/search_episodes.cypher fused by reciprocal rank of their vector and
    keyword scores, each kept as a signal."""
    hits: dict[str, EpisodeHit] = {}
    for signal in ("vector", "keyword"):
        values = [(r, r["vector"] if signal == "vector" else r["keyword"]) for r in rows]
        scored = [(r, v) for r, v in values if v is not None and (signal == "vector" or v > 0)]
        scored.sort(key=lambda item: item[1], reverse=True)
        for rank, (row, value) in enumerate(scored, start=1):
            episode = row["episode"]
            hit = hits.get(episode["id"])
            if hit is None:
                hit = hits[episode["id"]] = EpisodeHit(episode=episode_from_record(episode), score=0.0)
            hit.score += 1.0 / (RRF_K + rank)
            hit.signals[signal] = Signal(rank=rank, score=float(value))
    return sorted(hits.values(), key=lambda h: h.score, reverse=True)
