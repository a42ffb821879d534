"""The search's scope cache: each recently searched scope's facts, turns and entities, with
their embeddings, held in this process (graphmem/cache/vectors.py), so that the triplet,
keyword, episode and seed lists rank in memory (graphmem/cache/rank.py) instead of by exact
scans inside Neo4j (~15-45 ms per list at 1,000 facts, most of a search's time). A search
through the cache costs Neo4j one statement: the fetch of what it ranked.

It is never trusted blindly. Every write to a scope advances its write clock's `revision` and
stamps what it wrote with it; a deletion gives the clock a new `epoch` (cypher/write_add,
delete_fact, expire_scope_clocks). The statement that fetches the ranked facts and turns
(cypher/search_cached.cypher) also reads the scope's clocks: when they moved, the cache
reloads what changed since the revision it holds (or the whole scope, after a deletion),
ranks again and fetches again. Facts and turns are always returned as Neo4j holds them;
only the ranking reads the cache. What this process writes is not read back: each committed
add is folded into the scopes held (graphmem/cache/writes.py) when it follows their clocks
directly, and a scope's first write loads it, so its searches never scan. Writes made
outside graphmem (Cypher typed in the Browser) do not move the clocks: run `graphmem init`,
or restart, to see them in search.

What changed is decided by `reload_from` (pure); `ScopeCache` does the I/O.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from .._terms import WordTerm
from ..store.ids import scope_clock_id
from ..store.queries import Filters
from .near import HeldScope
from .rank import (
    CacheFilter,
    expand_seeds,
    fact_mask,
    fact_similarity,
    rank_episodes,
    rank_facts,
    rank_keyword,
    seed_entities,
)
from .vectors import Clocks, ScopeVectors
from .writes import PendingWrites, Written, advanced

if TYPE_CHECKING:
    from .._models import Scope, Usage
    from ..store.queries import CachedRows, EpisodeRow, ExpandRow, ScopeVectorRows, Seeding, SeedRow

__all__ = ["CachedLists", "ListRequest", "ScopeCache", "reload_from"]

log = logging.getLogger("graphmem")


class CacheReads(Protocol):
    """The two statements the cache reads through (store.queries.Queries has them)."""

    def scope_vectors(
        self, scope: Scope, *, since: int | None, max_items: int, usage: Usage | None
    ) -> ScopeVectorRows: ...

    def search_cached(
        self, filters: Filters, fact_ids: list[str], message_ids: list[str], *, usage: Usage
    ) -> CachedRows: ...


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
class ListRequest:
    """The lists a search wants from the cache; a count of 0 (or no seeding) skips a list."""

    embedding: Sequence[float]
    facts: int = 0  # the triplet list
    terms: Sequence[WordTerm] = ()  # the keyword list's terms ...
    keyword: int = 0  # ... and its length
    stems: Sequence[str] = ()  # the episode list's keyword stems ...
    episodes: int = 0  # ... and its length, per signal
    seeding: Seeding | None = None  # the query's seed entities
    fanout: int = 0  # the seeds' facts one hop out, at most this many per seed


@dataclass
class CachedLists:
    """The lists as the statements they replace return them, best first: triplet and keyword
    ((fact projection, score)), episode (cypher/search_episodes rows), seeds
    (search_seed_entities rows) and the seeds' facts (search_entities rows)."""

    facts: list[tuple[dict[str, Any], float]] = field(default_factory=list)
    keyword: list[tuple[dict[str, Any], float]] = field(default_factory=list)
    episodes: list[EpisodeRow] = field(default_factory=list)
    seeds: list[SeedRow] = field(default_factory=list)
    expanded: list[ExpandRow] = field(default_factory=list)


@dataclass
class _Ranked:
    facts: list[tuple[int, float]]
    keyword: list[tuple[int, float]]
    turns: list[tuple[str, float, float]]
    seeds: list[tuple[int, float]]
    expanded: list[tuple[int, float, str, str, float]]

    def fact_ids(self, scope: ScopeVectors) -> list[str]:
        at = [i for i, _ in self.facts] + [i for i, _ in self.keyword] + [row[0] for row in self.expanded]
        return list(dict.fromkeys(scope.fact_ids[i] for i in at))


def rank(scope: ScopeVectors, request: ListRequest, where: CacheFilter) -> _Ranked:
    """Every list the request wants, as positions in `scope` (pure)."""
    query = np.asarray(request.embedding, dtype=np.float32)
    query = query / (float(np.linalg.norm(query)) or 1.0)
    keep = fact_mask(scope, where)
    similarity = fact_similarity(scope, query)
    seeds: list[tuple[int, float]] = []
    if request.seeding is not None:
        seeding = request.seeding
        seeds = seed_entities(
            scope,
            seeding.words,
            query,
            min_vector_score=seeding.min_vector_score,
            vector_seeds=seeding.vector_seeds,
            seeds=seeding.seeds,
        )
    return _Ranked(
        facts=rank_facts(similarity, scope, keep, request.facts),
        keyword=rank_keyword(scope, request.terms, keep, request.keyword),
        turns=rank_episodes(scope, query, request.stems, where.as_of, request.episodes),
        seeds=seeds,
        expanded=expand_seeds(scope, seeds, similarity, keep, request.fanout) if request.fanout else [],
    )


class _TooBig:
    """A scope with more than the cache's item bound: searched through Neo4j."""


_TOO_BIG = _TooBig()


class ScopeCache:
    """Scopes' embeddings, least recently searched evicted first, within `max_bytes`.

    A scope it does not hold (a first search, or after a deletion) is loaded whole in the
    background once that search is done (`background=True`, `start_loads`): the search is left
    to Neo4j's scans, as loading costs several scans. What other writes changed since is
    loaded at once (a few rows)."""

    def __init__(
        self,
        queries: CacheReads,
        dim: int,
        *,
        max_bytes: int,
        attempts: int = 3,
        background: bool = True,
        merge_after: int = 64,
    ):
        self.queries = queries
        self.dim = dim
        # folded rows waiting: past this many they are merged in the background, so that a
        # search merges few (merging copies the whole scope: ~0.4 s at 10,000 messages for a
        # thousand rows, paid by the first search after an ingest before)
        self.merge_after = merge_after
        self.max_bytes = max_bytes
        self.max_items = max(1, max_bytes // 2 // (4 * dim + 400))  # of each kind, per scope
        self.attempts = attempts
        self.background = background
        self._scopes: OrderedDict[str, ScopeVectors | _TooBig] = OrderedDict()
        self._scope_of: dict[str, Scope] = {}  # key -> the scope held under it
        self._pending: dict[str, PendingWrites] = {}  # this process's writes, not merged yet
        self._bytes = 0
        self._lock = threading.Lock()
        self._loader: ThreadPoolExecutor | None = None
        self._closed = False
        self._loading: dict[str, tuple[Future[None], Scope]] = {}  # key -> its load, and the scope
        self._queued: dict[str, list[Written]] = {}  # writes made while their scope loads
        self._merging: dict[str, Future[None]] = {}  # scope key -> its merge in the background
        # scope key -> the filters of a search that missed it, and what the cache held then
        self._wanted: dict[str, tuple[Filters, ScopeVectors | _TooBig | None]] = {}
        self.loads = 0  # whole loads of a scope
        self.refreshes = 0  # loads of what changed since
        self.folded = 0  # writes of this process folded in without a read

    def ready(self, filters: Filters, usage: Usage) -> bool:
        """Whether the cache holds the scope now. If not (and it is not too big), its load is
        asked for: in the background, after the search (`start_loads`), or at once without
        `background`."""
        key = filters.scope.key
        with self._lock:
            held = self._scopes.get(key)
        if held is None:
            return self._load_whole(filters, usage) is not None
        return isinstance(held, ScopeVectors)

    def lists(self, filters: Filters, request: ListRequest, *, usage: Usage) -> CachedLists | None:
        """The lists `request` wants, or None when the cache cannot serve the scope now (not
        loaded yet, too big, or changing all the while): the caller then asks Neo4j."""
        key = filters.scope.key
        with self._lock:
            held = self._merged(key)
            if held is not None:
                self._scopes.move_to_end(key)
        if isinstance(held, _TooBig):
            return None
        scope = held if held is not None else self._load_whole(filters, usage)
        where = CacheFilter(
            as_of=filters.as_of.timestamp() * 1000.0 if filters.as_of else None,
            include_invalidated=filters.include_invalidated,
            relations=frozenset(filters.relations) if filters.relations is not None else None,
        )
        for _ in range(self.attempts):
            if scope is None:
                return None
            ranked = rank(scope, request, where)
            turn_ids = [i for i, _, _ in ranked.turns]
            rows = self.queries.search_cached(filters, ranked.fact_ids(scope), turn_ids, usage=usage)
            now = _clocks(rows["clocks"])
            if now == scope.clocks:
                return _lists(scope, rows, ranked)
            since = reload_from(scope.clocks, now)
            scope = self._load_whole(filters, usage) if since is None else self._load(filters, (scope, since), usage)
        return None

    def held(self, scope: Scope) -> HeldScope | None:
        """A snapshot of `scope` for an add's nearest entities and facts (graphmem/cache/near.py),
        when the cache holds it and it is exactly that scope (its one clock is the scope's own,
        so every item held is the scope's); None otherwise. Never reads Neo4j."""
        clock_key = scope_clock_id(scope)
        with self._lock:
            held = self._scopes.get(scope.key)
            if not isinstance(held, ScopeVectors):
                return None
            pending = self._pending.get(scope.key)
            clocks = pending.clocks if pending else held.clocks
            if len(clocks) != 1 or clocks[0][0] != clock_key:
                return None
            _, epoch, revision = clocks[0]
            return HeldScope(
                epoch=epoch,
                revision=revision,
                scope=held,
                pending_entities=dict(pending.entities) if pending else {},
                pending_facts=dict(pending.facts) if pending else {},
            )

    def wrote(self, written: Written) -> None:
        """An add this process committed. Folded into every held scope it belongs to whose
        clocks it follows directly (merged at that scope's next search), or kept for a scope
        loading now until its load lands; any other is left to the search's clock check. A
        scope's first write asks for its load (in the background, a few rows), so that even
        its first search ranks in memory."""
        scope, clock = written.scope, written.clock
        with self._lock:
            if self._closed:
                return
            for key in list(self._scopes):  # a merge may evict some as it goes
                searched = self._scope_of.get(key)
                if searched is not None and _includes(searched, scope):
                    self._fold(key, written)
            for key, (_, loading) in self._loading.items():
                if _includes(loading, scope):
                    self._queued.setdefault(key, []).append(written)
            first = clock.revision == 1 and scope.key not in self._scopes and scope.key not in self._loading
            if first and self.background:
                self._wanted.setdefault(scope.key, (Filters(scope), None))
        if first and self.background:
            self.start_loads()

    def _fold(self, key: str, written: Written) -> None:
        """`written` into what is held under `key`, if it follows it directly (holding the lock)."""
        held = self._scopes.get(key)
        if not isinstance(held, ScopeVectors):
            return
        pending = self._pending.get(key)
        clocks = advanced(pending.clocks if pending else held.clocks, written.clock)
        if clocks is None:
            return
        pending = pending or PendingWrites(held.clocks)
        try:
            folded = pending.fold(written.params, clocks, held)
        except Exception:  # never fail an add that committed: the clock check reloads
            log.warning("could not fold a write into the search cache", exc_info=True)
            return
        if folded:
            self._pending[key] = pending
            self.folded += 1
            if len(pending) >= self.merge_after:
                self._merge_later(key)

    def _merge_later(self, key: str) -> None:
        """Merge what waits for `key` off the writer's and the searches' way (holding the lock);
        without background work, at once."""
        if not self.background:
            self._merged(key)
            return
        if key in self._merging or self._closed:
            return
        self._merging[key] = self._background().submit(self._merge_now, key)

    def _background(self) -> ThreadPoolExecutor:
        """The one thread loads and merges run on, made at first use (holding the lock)."""
        if self._loader is None:
            self._loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="graphmem-cache")
        return self._loader

    def _merge_now(self, key: str) -> None:
        with self._lock:
            self._merging.pop(key, None)
            try:
                self._merged(key)
            except Exception:  # what waited is dropped (popped first): the clock check reloads it
                log.warning("could not merge writes into the search cache", exc_info=True)

    def _merged(self, key: str) -> ScopeVectors | _TooBig | None:
        """What is held under `key`, with the writes waiting for it merged in (holding the lock)."""
        held = self._scopes.get(key)
        pending = self._pending.pop(key, None)
        if pending is None or not isinstance(held, ScopeVectors):
            return held
        merged = held.updated(pending.changes(self.dim))
        self._put_locked(key, merged, self._scope_of[key])
        return merged

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
                future = self._background().submit(self._load_later, filters)
                self._loading[filters.scope.key] = (future, filters.scope)

    def _load_later(self, filters: Filters) -> None:
        try:
            self._load(filters, None, None)
        except Exception:  # the searches go on through Neo4j; the next one tries again
            log.warning("could not load a scope into the search cache", exc_info=True)
        finally:
            with self._lock:
                key = filters.scope.key
                self._loading.pop(key, None)
                for written in self._queued.pop(key, []):  # in commit order: each follows the last
                    self._fold(key, written)

    def close(self) -> None:
        """No more loads: the queued ones are dropped, a running one is waited for."""
        with self._lock:
            self._closed = True
            self._wanted.clear()
            self._queued.clear()
            loader, self._loader = self._loader, None
        if loader is not None:
            loader.shutdown(wait=True, cancel_futures=True)

    def wait(self) -> None:
        """Until the loads and merges in the background are done (benchmarks, tests)."""
        self.start_loads()
        with self._lock:
            pending = [future for future, _ in self._loading.values()] + list(self._merging.values())
        futures_wait(pending)

    def _load(
        self, filters: Filters, stale: tuple[ScopeVectors, int] | None, usage: Usage | None
    ) -> ScopeVectors | None:
        """The scope from Neo4j: whole, or given what the cache held, what the writes after
        revision `since` stamped, laid over it."""
        key = filters.scope.key
        held, since = stale if stale else (None, None)
        rows = self.queries.scope_vectors(filters.scope, since=since, max_items=self.max_items + 1, usage=usage)
        changes = ScopeVectors.rows(
            _clocks(rows["clocks"]), rows["facts"], rows["messages"], rows["entities"], self.dim
        )
        scope = changes if held is None else held.updated(changes)
        if held is None:
            self.loads += 1
        else:
            self.refreshes += 1
        counts = (len(scope.fact_ids), len(scope.turn_ids), len(scope.entity_ids))
        if max(counts) > self.max_items or scope.nbytes > self.max_bytes // 2:
            self._put(key, _TOO_BIG, filters.scope)
            return None
        self._put(key, scope, filters.scope)
        return scope

    def _put(self, key: str, value: ScopeVectors | _TooBig, scope: Scope) -> None:
        with self._lock:
            self._put_locked(key, value, scope)

    def _put_locked(self, key: str, value: ScopeVectors | _TooBig, scope: Scope) -> None:
        # writes folded for what was held before are dropped: the clock check covers them
        self._pending.pop(key, None)
        old = self._scopes.pop(key, None)
        self._bytes -= old.nbytes if isinstance(old, ScopeVectors) else 0
        self._scopes[key] = value
        self._scope_of[key] = scope
        self._bytes += value.nbytes if isinstance(value, ScopeVectors) else 0
        while self._bytes > self.max_bytes and len(self._scopes) > 1:
            dropped_key, dropped = self._scopes.popitem(last=False)
            self._scope_of.pop(dropped_key, None)
            self._pending.pop(dropped_key, None)
            self._bytes -= dropped.nbytes if isinstance(dropped, ScopeVectors) else 0

    def clear(self) -> None:
        with self._lock:
            self._scopes.clear()
            self._scope_of.clear()
            self._pending.clear()
            self._bytes = 0

    @property
    def nbytes(self) -> int:
        return self._bytes


def _includes(searched: Scope, written: Scope) -> bool:
    """Whether a search of `searched` sees what an add to `written` wrote (each id it sets matches)."""
    return all(
        mine is None or mine == theirs
        for mine, theirs in (
            (searched.user_id, written.user_id),
            (searched.agent_id, written.agent_id),
            (searched.run_id, written.run_id),
        )
    )


def _clocks(rows: Sequence[Sequence[Any]]) -> Clocks:
    return tuple((str(key), None if epoch is None else str(epoch), int(revision)) for key, epoch, revision in rows)


def _lists(scope: ScopeVectors, rows: CachedRows, ranked: _Ranked) -> CachedLists:
    """The fetched projections in the cache's order (a fact or turn the filters now refuse,
    or that is gone, is left out)."""
    facts = {fact["id"]: fact for fact in rows["facts"]}
    turns = {turn["id"]: turn for turn in rows["episodes"]}

    def listed(ranks: list[tuple[int, float]]) -> list[tuple[dict[str, Any], float]]:
        return [(facts[scope.fact_ids[i]], score) for i, score in ranks if scope.fact_ids[i] in facts]

    return CachedLists(
        facts=listed(ranked.facts),
        keyword=listed(ranked.keyword),
        episodes=[
            {"episode": turns[i], "vector": vector, "keyword": keyword}
            for i, vector, keyword in ranked.turns
            if i in turns
        ],
        seeds=[
            {
                "id": scope.entity_ids[i],
                "name": scope.entity_names[i],
                "normalized": scope.entity_normalized[i],
                "score": weight,
            }
            for i, weight in ranked.seeds
        ],
        expanded=[
            {"fact": facts[scope.fact_ids[i]], "similarity": score, "next_id": next_id, "from_id": seed, "weight": w}
            for i, score, next_id, seed, w in ranked.expanded
            if scope.fact_ids[i] in facts
        ],
    )
