"""The search's vector cache: each recently searched scope's fact and turn embeddings, held in
this process, so that the triplet and episode lists rank them with one matrix product instead
of an exact scan inside Neo4j (~20-25 ms per list for 1,000 items, most of a search's time).

It is never trusted blindly. Every write to a scope advances its write clock's `revision` and
stamps what it wrote with it; a deletion gives the clock a new `epoch` (cypher/write_add,
delete_fact, expire_scope_clocks). The statement that fetches the ranked facts and turns
(cypher/search_cached.cypher) also reads the scope's clocks: when they moved, the cache
reloads what changed since the revision it holds (or the whole scope, after a deletion),
ranks again and fetches again. Facts and turns are always returned as Neo4j holds them;
only the ranking reads the cache. Writes made outside graphmem (Cypher typed in the
Browser) do not move the clocks: run `graphmem init`, or restart, to see them in search.

The decisions (what changed, how items rank under the search's filters) are pure functions
below; `VectorCache` does the I/O.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ._models import Usage
    from ._queries import CachedRows, EpisodeRow, Filters, Queries

__all__ = ["Clocks", "ScopeVectors", "VectorCache", "rank_episodes", "rank_facts", "reload_from"]

log = logging.getLogger("graphmem")
Clocks = tuple[tuple[str, str | None, int], ...]  # (key, epoch, revision) per clock, by key
NEVER = math.inf  # valid_to of a fact that is still valid


@dataclass(frozen=True, eq=False)
class ScopeVectors:
    """One scope's embeddings (rows normalised) and the fields the search filters on.
    Immutable: a refresh builds a new one, so a search ranking from the old one is unharmed."""

    clocks: Clocks
    fact_ids: tuple[str, ...]
    fact_vectors: np.ndarray  # (facts, dim) float32, unit rows
    relations: tuple[str, ...]
    valid_from: np.ndarray  # epoch ms
    valid_to: np.ndarray  # epoch ms, NEVER while valid
    turn_ids: tuple[str, ...]
    turn_vectors: np.ndarray
    turn_times: np.ndarray  # epoch ms
    turn_stems: tuple[str, ...]  # ' stem stem ... ' (graphmem/_terms.py)

    @property
    def nbytes(self) -> int:
        return int(self.fact_vectors.nbytes + self.turn_vectors.nbytes) + 200 * (
            len(self.fact_ids) + len(self.turn_ids)
        )

    @classmethod
    def build(
        cls, clocks: Clocks, facts: Sequence[Sequence[Any]], turns: Sequence[Sequence[Any]], dim: int
    ) -> ScopeVectors:
        """From the rows of cypher/scope_vectors.cypher: facts [id, relation, valid_from,
        valid_to, embedding], turns [id, timestamp, stems, embedding]."""
        return cls(
            clocks=clocks,
            fact_ids=tuple(str(f[0]) for f in facts),
            fact_vectors=_unit_rows([f[4] for f in facts], dim),
            relations=tuple(str(f[1]) for f in facts),
            valid_from=np.array([float(f[2]) for f in facts], dtype=np.float64),
            valid_to=np.array([NEVER if f[3] is None else float(f[3]) for f in facts], dtype=np.float64),
            turn_ids=tuple(str(t[0]) for t in turns),
            turn_vectors=_unit_rows([t[3] for t in turns], dim),
            turn_times=np.array([float(t[1]) for t in turns], dtype=np.float64),
            turn_stems=tuple(str(t[2] or " ") for t in turns),
        )

    def updated(self, changes: ScopeVectors) -> ScopeVectors:
        """This scope with `changes` (what was written since) laid over it, by id."""
        facts = _merge(self.fact_ids, changes.fact_ids)
        turns = _merge(self.turn_ids, changes.turn_ids)

        def pick(old: np.ndarray, new: np.ndarray, order: list[tuple[bool, int]]) -> np.ndarray:
            both = np.concatenate([old, new]) if len(new) else old
            return both[[i if not fresh else len(old) + i for fresh, i in order]] if order else old[:0]

        def take(old: tuple[str, ...], new: tuple[str, ...], order: list[tuple[bool, int]]) -> tuple[str, ...]:
            return tuple(new[i] if fresh else old[i] for fresh, i in order)

        return ScopeVectors(
            clocks=changes.clocks,
            fact_ids=take(self.fact_ids, changes.fact_ids, facts),
            fact_vectors=pick(self.fact_vectors, changes.fact_vectors, facts),
            relations=take(self.relations, changes.relations, facts),
            valid_from=pick(self.valid_from, changes.valid_from, facts),
            valid_to=pick(self.valid_to, changes.valid_to, facts),
            turn_ids=take(self.turn_ids, changes.turn_ids, turns),
            turn_vectors=pick(self.turn_vectors, changes.turn_vectors, turns),
            turn_times=pick(self.turn_times, changes.turn_times, turns),
            turn_stems=take(self.turn_stems, changes.turn_stems, turns),
        )


def _unit_rows(vectors: list[Any], dim: int) -> np.ndarray:
    matrix = np.array(vectors, dtype=np.float32).reshape(len(vectors), dim)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)


def _merge(old: tuple[str, ...], new: tuple[str, ...]) -> list[tuple[bool, int]]:
    """Where each item of the merged list comes from, (from `new`, index): old order, an
    item `new` holds replaced in place, then new items."""
    fresh = {item: i for i, item in enumerate(new)}
    order = [(True, fresh.pop(item)) if item in fresh else (False, i) for i, item in enumerate(old)]
    return order + [(True, i) for i in fresh.values()]


def reload_from(held: Clocks, now: Clocks) -> int | None:
    """The revision after which a scope's writes must be reloaded to bring a cache holding
    `held` up to `now`: the lowest revision held by a clock that moved (0 for a new clock).
    None: reload everything (a clock was deleted, got a new epoch, or went back)."""
    before = {key: (epoch, revision) for key, epoch, revision in held}
    after = {key: (epoch, revision) for key, epoch, revision in now}
    if not before.keys() <= after.keys():
        return None
    moved = []
    for key, (epoch, revision) in after.items():
        if key not in before:
            moved.append(0)
            continue
        old_epoch, old_revision = before[key]
        if epoch != old_epoch or revision < old_revision:
            return None
        if revision != old_revision:
            moved.append(old_revision)
    return min(moved, default=max((r for _, _, r in now), default=0))


@dataclass(frozen=True)
class CacheFilter:
    """What cypher/fragments/fact_filter and message_filter apply, as the cache can: times in
    epoch ms, relation names (a search filtered on entity types does not use the cache)."""

    as_of: float | None = None
    include_invalidated: bool = False
    relations: frozenset[str] | None = None


def rank_facts(scope: ScopeVectors, query: np.ndarray, where: CacheFilter, limit: int) -> list[tuple[str, float]]:
    """search_triplets' exact scan: the facts nearest to the (unit) query vector that pass the
    filter, as (id, (1 + cosine) / 2), best first."""
    if limit <= 0 or not scope.fact_ids:
        return []
    if where.as_of is not None:
        keep = (scope.valid_from <= where.as_of) & (scope.valid_to > where.as_of)
    elif where.include_invalidated:
        keep = np.ones(len(scope.fact_ids), dtype=bool)
    else:
        keep = scope.valid_to == NEVER
    if where.relations is not None:
        keep &= np.array([r in where.relations for r in scope.relations], dtype=bool)
    return _top(scope.fact_ids, (1.0 + scope.fact_vectors @ query) / 2.0, keep, limit)


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
    chosen = dict.fromkeys(i for i, _ in _top(range(len(scope.turn_ids)), vector, keep, limit))
    chosen.update(dict.fromkeys(i for i, _ in _top(range(len(scope.turn_ids)), keyword, keep & (keyword > 0), limit)))
    return [(scope.turn_ids[i], float(vector[i]), float(keyword[i])) for i in chosen]


def _top(ids: Sequence[Any], scores: np.ndarray, keep: np.ndarray, limit: int) -> list[tuple[Any, float]]:
    candidates = np.flatnonzero(keep)
    if len(candidates) > limit:
        candidates = candidates[np.argpartition(-scores[candidates], limit - 1)[:limit]]
    ordered = candidates[np.argsort(-scores[candidates], kind="stable")]
    return [(ids[i], float(scores[i])) for i in ordered]


@dataclass
class CachedLists:
    """The triplet list's rows ((fact projection, score), best first) and the episode list's
    rows (as cypher/search_episodes.cypher returns them), read through the cache."""

    facts: list[tuple[dict[str, Any], float]]
    episodes: list[EpisodeRow]


class _TooBig:
    """A scope with more than the cache's item bound: searched through Neo4j."""


_TOO_BIG = _TooBig()


class VectorCache:
    """Scopes' embeddings, least recently searched evicted first, within `max_bytes`.

    A scope it does not hold (a first search, or after a deletion) is loaded whole in the
    background once that search is done (`background=True`, `start_loads`): the search is left
    to Neo4j's scans, as loading costs several scans. What other writes changed since is
    loaded at once (a few rows)."""

    def __init__(self, queries: Queries, dim: int, *, max_bytes: int, attempts: int = 3, background: bool = True):
        self.queries = queries
        self.dim = dim
        self.max_bytes = max_bytes
        self.max_items = max(1, max_bytes // 2 // (4 * dim + 200))  # of each kind, per scope
        self.attempts = attempts
        self.background = background
        self._scopes: OrderedDict[str, ScopeVectors | _TooBig] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._loader: ThreadPoolExecutor | None = None
        self._closed = False
        self._loading: dict[str, Future[None]] = {}
        # scope key -> the filters of a search that missed it, and what the cache held then
        self._wanted: dict[str, tuple[Filters, ScopeVectors | _TooBig | None]] = {}
        self.loads = 0  # whole loads of a scope
        self.refreshes = 0  # loads of what changed since

    def lists(
        self,
        filters: Filters,
        embedding: Sequence[float],
        stems: Sequence[str],
        *,
        facts: int,
        episodes: int,
        usage: Usage,
    ) -> CachedLists | None:
        """The `facts` best facts and the `episodes` best turns by each signal, or None when
        the cache cannot serve the scope now (not loaded yet, too big, or changing all the
        while): the caller then asks Neo4j."""
        key = filters.scope.key
        with self._lock:
            held = self._scopes.get(key)
            if held is not None:
                self._scopes.move_to_end(key)
        if isinstance(held, _TooBig):
            return None
        scope = held if held is not None else self._load_whole(filters, usage)
        query = np.asarray(embedding, dtype=np.float32)
        query = query / (float(np.linalg.norm(query)) or 1.0)
        where = CacheFilter(
            as_of=filters.as_of.timestamp() * 1000.0 if filters.as_of else None,
            include_invalidated=filters.include_invalidated,
            relations=frozenset(filters.relations) if filters.relations is not None else None,
        )
        for _ in range(self.attempts):
            if scope is None:
                return None
            fact_rank = rank_facts(scope, query, where, facts)
            turn_rank = rank_episodes(scope, query, stems, where.as_of, episodes)
            rows = self.queries.search_cached(
                filters, [i for i, _ in fact_rank], [i for i, _, _ in turn_rank], usage=usage
            )
            now = _clocks(rows["clocks"])
            if now == scope.clocks:
                return _lists(rows, fact_rank, turn_rank)
            since = reload_from(scope.clocks, now)
            scope = self._load_whole(filters, usage) if since is None else self._load(filters, (scope, since), usage)
        return None

    def _load_whole(self, filters: Filters, usage: Usage) -> ScopeVectors | None:
        if not self.background:
            return self._load(filters, None, usage)
        with self._lock:
            # with what the cache holds now: a load that lands before start_loads makes it moot
            self._wanted.setdefault(filters.scope.key, (filters, self._scopes.get(filters.scope.key)))
        return None

    def start_loads(self) -> None:
        """Loads the scopes the searches since the last call could not find, in the background.
        The retriever calls it when a search is done, so that the load does not slow it."""
        with self._lock:
            if self._closed:
                self._wanted.clear()
                return
            wanted = [
                f
                for key, (f, held) in self._wanted.items()
                if key not in self._loading and self._scopes.get(key) is held
            ]
            self._wanted.clear()
            for filters in wanted:
                if self._loader is None:
                    self._loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="graphmem-cache")
                self._loading[filters.scope.key] = self._loader.submit(self._load_later, filters)

    def _load_later(self, filters: Filters) -> None:
        try:
            self._load(filters, None, None)
        except Exception:  # the searches go on through Neo4j; the next one tries again
            log.warning("could not load a scope into the search cache", exc_info=True)
        finally:
            with self._lock:
                self._loading.pop(filters.scope.key, None)

    def close(self) -> None:
        """No more loads: the queued ones are dropped, a running one is waited for."""
        with self._lock:
            self._closed = True
            self._wanted.clear()
            loader, self._loader = self._loader, None
        if loader is not None:
            loader.shutdown(wait=True, cancel_futures=True)

    def wait(self) -> None:
        """Until the loads in the background are done (benchmarks, tests)."""
        self.start_loads()
        with self._lock:
            pending = list(self._loading.values())
        futures_wait(pending)

    def _load(
        self, filters: Filters, stale: tuple[ScopeVectors, int] | None, usage: Usage | None
    ) -> ScopeVectors | None:
        """The scope from Neo4j: whole, or given what the cache held, what the writes after
        revision `since` stamped, laid over it."""
        key = filters.scope.key
        held, since = stale if stale else (None, None)
        rows = self.queries.scope_vectors(filters.scope, since=since, max_items=self.max_items + 1, usage=usage)
        changes = ScopeVectors.build(_clocks(rows["clocks"]), rows["facts"], rows["messages"], self.dim)
        scope = changes if held is None else held.updated(changes)
        if held is None:
            self.loads += 1
        else:
            self.refreshes += 1
        if max(len(scope.fact_ids), len(scope.turn_ids)) > self.max_items:
            self._put(key, _TOO_BIG)
            return None
        self._put(key, scope)
        return scope

    def _put(self, key: str, value: ScopeVectors | _TooBig) -> None:
        with self._lock:
            old = self._scopes.pop(key, None)
            self._bytes -= old.nbytes if isinstance(old, ScopeVectors) else 0
            self._scopes[key] = value
            self._bytes += value.nbytes if isinstance(value, ScopeVectors) else 0
            while self._bytes > self.max_bytes and len(self._scopes) > 1:
                _, dropped = self._scopes.popitem(last=False)
                self._bytes -= dropped.nbytes if isinstance(dropped, ScopeVectors) else 0

    def clear(self) -> None:
        with self._lock:
            self._scopes.clear()
            self._bytes = 0

    @property
    def nbytes(self) -> int:
        return self._bytes


def _clocks(rows: Sequence[Sequence[Any]]) -> Clocks:
    return tuple((str(key), None if epoch is None else str(epoch), int(revision)) for key, epoch, revision in rows)


def _lists(
    rows: CachedRows, fact_rank: list[tuple[str, float]], turn_rank: list[tuple[str, float, float]]
) -> CachedLists:
    """The fetched projections in the cache's order (a fact or turn the filters now refuse,
    or that is gone, is left out)."""
    facts = {fact["id"]: fact for fact in rows["facts"]}
    turns = {turn["id"]: turn for turn in rows["episodes"]}
    return CachedLists(
        facts=[(facts[i], score) for i, score in fact_rank if i in facts],
        episodes=[
            {"episode": turns[i], "vector": vector, "keyword": keyword}
            for i, vector, keyword in turn_rank
            if i in turns
        ],
    )
