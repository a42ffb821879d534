"""Retrieval: associative multi-hop recall (the default), entity-centric subgraph expansion,
semantic triplet top-K, keyword search, their reciprocal-rank fusion, and episodic recall of
the stored turns. No LLM call unless asked for.

* triplet: the scope's facts nearest to the query embedding.
* keyword: facts holding the query's words, stemmed (a rare word weighs more than a common one).
* entity: the entities the query names (or, if it names none, the nearest entity names),
  then the facts around them, hop by hop; a fact's score mixes its similarity to the query
  with how surely the query is about the seed it was reached from and how far it is.
* hybrid: triplet, keyword and entity, run at once, fused by reciprocal rank; each hit keeps
  the rank and score every list gave it (`signals`).
* associative (default): triplet, keyword, episode lists and the named entities at once, then
  `spread.Walk` walks from the seeds (the entities the query names and the ends of the best
  hits), fetching the graph one hop at a time around the nodes its best paths reach
  (cypher/search_graph.cypher; decisions in `search.associative`): a fact reached by a chain that
  answers the question's parts ("Lena's brother" then "work") outranks a fact that answers
  only one of them.
* episode: the stored turns only (`results.episodes`), by embedding and stemmed keywords.

associative and hybrid also return the best turns in `results.episodes` (`episodes=`).
The triplet, keyword, episode and seed lists rank from the scope cache (`cache.scope_cache`) when it
holds the scope, in one statement for them all; otherwise they scan in Neo4j, as below.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from .._errors import InputError
from .._models import (
    ExtractionInput,
    Fact,
    Message,
    Scope,
    Usage,
    as_utc,
    normalize_label,
    normalize_relation,
    utcnow,
)
from .._terms import query_stems, query_words, word_terms
from ..cache.scope_cache import ListRequest, ScopeCache
from ..embed._phrases import PhraseVectors
from ..embed.base import Embedder
from ..llm.base import LLM
from ..store.queries import EpisodeRow, ExpandRow, Filters, GraphRow, IndexWidth, Queries, Seeding, SeedRow
from ..store.transport import fact_from_record
from ..write.extract import extract_entities
from .associative import GraphReader, hit_seeds, walk_seeds
from .results import EpisodeHit, Ranked, SearchHit, SearchResults, Signal, episode_from_record
from .spread import Reach, SpreadConfig, Walk

__all__ = ["MODES", "Mode", "EpisodeHit", "Retriever", "SearchHit", "SearchResults", "Signal", "query_words"]

Mode = Literal["associative", "hybrid", "entity", "triplet", "keyword", "episode"]
MODES: tuple[str, ...] = get_args(Mode)
DEFAULT_MODE: Mode = "associative"
DEFAULT_EPISODES = 5  # turns returned beside the facts: enough context, ~150 tokens
MAX_CHAIN = 3  # facts on an associative chain: one cypher/search_graph.cypher round trip each
RRF_K = 60  # the usual reciprocal-rank-fusion constant: damps the weight of top ranks
_EPISODE_MODES = ("associative", "hybrid", "episode")
_CACHED_LISTS = ("triplet", "keyword", "episode", "named", "entity")  # those the scope cache ranks
#: the lists each mode runs, at once ("episode" only when episodes are asked for; "named": the
#: entities the query names, associative's seeds)
_LISTS: dict[str, tuple[str, ...]] = {
    "associative": ("triplet", "keyword", "episode", "named"),
    "hybrid": ("triplet", "keyword", "entity", "episode"),
    "entity": ("entity",),
    "triplet": ("triplet",),
    "keyword": ("keyword",),
    "episode": ("episode",),
}


class Retriever:
    """Every list is computed inside the scope. The vector and full-text indexes are shared by
    all scopes and Neo4j 5 cannot filter inside them, so a top-k over them starves a scope
    that holds a small share of the data. A scope of at most `scan_max` facts (entities, for
    seeds; turns, for episodes) is therefore scanned exactly through its property index; a
    larger one goes through the shared indexes, asking for k results scaled by its share of
    the data, within [k_min, k_max] (see cypher/search_triplets.cypher).
    bench/search_bench.py measures both; bench/quality.py measures what they find."""

    def __init__(
        self,
        queries: Queries,
        embedder: Embedder,
        llm: LLM | None = None,
        *,
        scan_max: int = 2000,
        k_min: int = 200,
        k_max: int = 5000,
        seeds: int = 10,
        vector_seeds: int = 3,
        min_vector_score: float = 0.5,
        parallel: bool = True,
        graph_fanout: int = 10,
        graph_frontier: int = 16,
        graph_hub_scan: int = 200,
        spread: SpreadConfig = SpreadConfig(),
        phrases: PhraseVectors | None = None,
        cache: ScopeCache | None = None,
    ):
        self.queries = queries
        self.embedder = embedder
        self.llm = llm
        self.scan_max = scan_max
        self.k_min = k_min
        self.k_max = k_max
        self.seeds = seeds
        self.vector_seeds = vector_seeds
        self.min_vector_score = min_vector_score
        self.parallel = parallel  # the lists' statements run at once, each on its own connection
        self.graph_fanout = graph_fanout
        self.graph_frontier = graph_frontier
        self.graph_hub_scan = graph_hub_scan  # a node with more facts is a hub: not scanned, see search_graph
        self.spread = spread
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        # question words and relation names repeat: embedded once, cached
        self.phrases = phrases or PhraseVectors(embedder)
        # the scopes searched in this process: the lists ranked without a scan
        self.cache = cache

    def search(
        self,
        query: str,
        scope: Scope,
        *,
        mode: Mode = DEFAULT_MODE,
        limit: int = 10,
        episodes: int = DEFAULT_EPISODES,
        hops: int | None = None,
        fanout: int = 25,
        as_of: datetime | None = None,
        include_invalidated: bool = False,
        entity_types: list[str] | None = None,
        relations: list[str] | None = None,
        use_llm_entities: bool = False,
        embedding: list[float] | None = None,
        usage: Usage | None = None,
    ) -> SearchResults:
        if mode not in MODES:
            raise InputError(f"unknown search mode {mode!r}: use one of {', '.join(MODES)}")
        if not query or not query.strip():
            raise InputError("search query is empty: give the question or keywords to look for")
        if limit < 1 or fanout < 1 or (hops is not None and hops < 0) or episodes < 0:
            raise InputError("limit and fanout must be >= 1, hops and episodes >= 0")
        usage = usage or Usage()
        filters = Filters(
            scope,
            as_of=as_utc(as_of) if as_of else None,
            include_invalidated=include_invalidated,
            types=[normalize_label(t) for t in entity_types] if entity_types else None,
            relations=[normalize_relation(r) for r in relations] if relations else None,
        )
        words = query_words(query)
        stems = query_stems(query)
        if mode != "keyword" and embedding is None:
            embedding = self._embed_query(query, words if mode == "associative" else [])
        depth = max(limit * 3, 30)
        want_episodes = limit if mode == "episode" else episodes if mode in _EPISODE_MODES else 0
        # the lists each mode runs at once (the table below), then how it ranks them
        lists: dict[str, Callable[[Usage], Any]] = {
            "triplet": lambda u: self._triplets(embedding, filters, depth, u),
            "keyword": lambda u: self._keyword(words, filters, depth, u),
            "entity": lambda u: self._entities(
                query, embedding, words, filters, depth, hops or 1, fanout, use_llm_entities, u
            ),
            "episode": lambda u: self._episodes(words, stems, embedding, filters, max(want_episodes, 5), u),
            "named": lambda u: self._named(words, embedding, filters, u),
        }
        wanted = [name for name in _LISTS[mode] if name != "episode" or want_episodes]
        if not words and "keyword" in wanted:
            wanted.remove("keyword")
        # the lists rank from the scope cache when it holds the scope (one statement for them
        # all), unless the search filters on entity types, which the cache does not hold, or
        # an LLM names the seeds
        cached = [name for name in wanted if name in _CACHED_LISTS and not (name == "entity" and use_llm_entities)]
        if self.cache is None or embedding is None or filters.types or not self.cache.ready(filters, usage):
            cached = []
        jobs = {name: lists[name] for name in wanted if name not in cached}
        if cached and embedding is not None:
            request = ListRequest(
                embedding=embedding,
                facts=depth if "triplet" in cached else 0,
                terms=word_terms(words) if "keyword" in cached else (),
                keyword=depth if "keyword" in cached else 0,
                stems=stems,
                episodes=max(want_episodes, 5) if "episode" in cached else 0,
                seeding=self._seeding(words) if {"named", "entity"} & set(cached) else None,
                fanout=fanout if "entity" in cached else 0,
            )
            scans = {name: lists[name] for name in cached}
            expand = {"embedding": embedding, "hops": hops or 1, "fanout": fanout, "limit": depth}
            jobs["cached"] = lambda u: self._cached(filters, request, expand, scans, u)
        found = self._run(jobs, usage)
        found |= found.pop("cached", {})
        found = {name: found[name] for name in wanted}  # in the table's order: fusion's ties
        episode_hits = found.pop("episode", [])[:want_episodes]
        named = found.pop("named", [])
        if mode == "associative":
            chain = min(max(hops if hops is not None else MAX_CHAIN, 1), MAX_CHAIN)
            hits = self._associative(embedding, words, filters, found, named, episode_hits, chain, limit, usage)
        elif mode == "hybrid":
            hits = fuse(found)
        elif mode == "episode":
            hits = []
        else:
            hits = [
                SearchHit(fact=f, score=score, hops=hop, signals={mode: Signal(rank=i + 1, score=score)})
                for i, (f, score, hop) in enumerate(found.get(mode, []))
            ]
        if self.cache is not None:
            self.cache.start_loads()  # a scope this search missed loads now that its work is done
        return SearchResults(hits[:limit], episode_hits)

    def _run(self, jobs: dict[str, Callable[[Usage], Any]], usage: Usage) -> dict[str, Any]:
        """Each list's statements; with several lists and `parallel`, at once (each into its
        own Usage, merged after, so the counts stay exact)."""
        if len(jobs) < 2 or not self.parallel:
            return {name: job(usage) for name, job in jobs.items()}
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="graphmem-search")
        usages = {name: Usage() for name in jobs}
        futures = {name: self._pool.submit(job, usages[name]) for name, job in jobs.items()}
        lists = {name: future.result() for name, future in futures.items()}
        for part in usages.values():
            usage.merge(part)
        return lists

    def _cached(
        self,
        filters: Filters,
        request: ListRequest,
        expand: dict[str, Any],
        scans: dict[str, Callable[[Usage], Any]],
        usage: Usage,
    ) -> dict[str, Any]:
        """The lists `scans` names through the scope cache, as their statements give them;
        through `scans` (those statements) when the cache cannot serve the scope after all."""
        assert self.cache is not None
        got = self.cache.lists(filters, request, usage=usage)
        if got is None:
            return {name: scan(usage) for name, scan in scans.items()}
        parse = _parser()  # a fact in several lists is read once
        ranked: dict[str, Callable[[], Any]] = {
            "triplet": lambda: [(parse(data), score, None) for data, score in got.facts],
            "keyword": lambda: [(parse(data), score, None) for data, score in got.keyword],
            "episode": lambda: fuse_episodes(got.episodes)[: request.episodes],
            "named": lambda: got.seeds,
            "entity": lambda: self._expanded(got.expanded, filters, usage=usage, parse=parse, **expand),
        }
        return {name: ranked[name]() for name in scans}

    def _width(self, want: int) -> IndexWidth:
        return IndexWidth(scan_max=self.scan_max, k_min=self.k_min, k_max=self.k_max, want=want)

    def _seeding(self, words: list[str]) -> Seeding:
        return Seeding(
            words=words, min_vector_score=self.min_vector_score, vector_seeds=self.vector_seeds, seeds=self.seeds
        )

    def _triplets(self, embedding: list[float] | None, filters: Filters, depth: int, usage: Usage) -> Ranked:
        rows = self.queries.search_triplets(filters, self._width(depth * 3), embedding, depth, usage)
        return [(_fact(r["fact"]), float(r["score"]), None) for r in rows]

    def _keyword(self, words: list[str], filters: Filters, depth: int, usage: Usage) -> Ranked:
        rows = self.queries.search_keyword(filters, self._width(depth * 3), words, depth, usage)
        return [(_fact(r["fact"]), float(r["score"]), None) for r in rows]

    def _episodes(
        self,
        words: list[str],
        stems: list[str],
        embedding: list[float] | None,
        filters: Filters,
        count: int,
        usage: Usage,
    ) -> list[EpisodeHit]:
        rows = self.queries.search_episodes(filters, self._width(count * 3), embedding, words, stems, count, usage)
        return fuse_episodes(rows)[:count]

    def _entities(
        self,
        query: str,
        embedding: list[float] | None,
        words: list[str],
        filters: Filters,
        depth: int,
        hops: int,
        fanout: int,
        use_llm: bool,
        usage: Usage,
    ) -> Ranked:
        seed_words = words
        if use_llm and self.llm is not None:
            named = extract_entities(self.llm, ExtractionInput(messages=[Message(content=query)]), usage)
            seed_words = query_words(" ".join(e.name for e in named)) or words
        rows = self.queries.search_entities(
            filters, self._width(self.seeds * 5), self._seeding(seed_words), embedding, fanout, usage
        )
        return self._expanded(rows, filters, embedding=embedding, hops=hops, fanout=fanout, limit=depth, usage=usage)

    def _expanded(
        self,
        rows: list[ExpandRow],
        filters: Filters,
        *,
        embedding: list[float] | None,
        hops: int,
        fanout: int,
        limit: int,
        usage: Usage,
        parse: Callable[[dict[str, Any]], Fact] | None = None,
    ) -> Ranked:
        """The entity list from its first hop's rows (the seeds' facts), `hops` deep: each
        further hop one cypher/search_expand.cypher statement. The `limit` best, best first."""
        parse = parse or _fact
        now = utcnow()
        found: dict[str, tuple[Fact, float, int | None]] = {}
        visited = {r["from_id"] for r in rows}  # the seeds
        frontier: dict[str, float] = {}  # node id -> weight of the seed it was reached from
        for hop in range(1, max(hops, 1) + 1):
            if hop > 1:
                if not frontier:
                    break
                rows = self.queries.search_expand(filters, frontier, embedding, fanout, usage)
            reached: dict[str, float] = {}
            for r in rows:
                fact, weight = parse(r["fact"]), float(r["weight"])
                score = _entity_score(fact, float(r["similarity"] or 0.0), weight, hop, now)
                if fact.id not in found or score > found[fact.id][1]:
                    found[fact.id] = (fact, score, hop)
                if r["next_id"] not in visited:
                    reached[r["next_id"]] = max(weight, reached.get(r["next_id"], 0.0))
            visited.update(reached)
            frontier = reached
        return sorted(found.values(), key=lambda x: x[1], reverse=True)[:limit]

    # -- associative ------------------------------------------------------------------
    def _named(self, words: list[str], embedding: list[float] | None, filters: Filters, usage: Usage) -> list[SeedRow]:
        return self.queries.search_seed_entities(
            filters, self._width(self.seeds * 5), self._seeding(words), embedding, usage
        )

    def _embed_query(self, query: str, words: list[str]) -> list[float]:
        """The query's embedding, in one embedder call with those of its words not cached yet
        (the walk reads its aspects, a subset of the words, from the phrase cache): one call
        per search, which an embeddings endpoint answers in one round trip."""
        missing = self.phrases.missing(words)
        query_vector, *word_vectors = self.embedder.embed([query, *missing])
        self.phrases.put(missing, word_vectors)
        return query_vector

    def _associative(
        self,
        embedding: list[float] | None,
        words: list[str],
        filters: Filters,
        lists: dict[str, Ranked],
        named: list[SeedRow],
        episodes: list[EpisodeHit],
        hops: int,
        limit: int,
        usage: Usage,
    ) -> list[SearchHit]:
        """The walk, fetching the graph one hop at a time around the nodes it asks for (one
        statement per hop), blended with the other lists."""
        reader = GraphReader(words, named)
        aspect_vectors = self.phrases.get(reader.aspects)
        walk = Walk(
            walk_seeds(named, hit_seeds(lists, episodes), words),
            len(reader.aspects),
            dataclasses.replace(self.spread, max_hops=hops),
        )
        aspects = dict(zip(reader.aspects, aspect_vectors))
        fetched: set[str] = set()
        listed = sorted({fact.id for items in lists.values() for fact, _, _ in items})
        bonus = list_bonus(lists)
        for depth in range(hops):
            if depth and not (filters.types or filters.relations):
                # paths that cannot change the top `limit` are not followed (nor their ends fetched)
                walk.prune(walk_floor(walk.best, bonus, limit))
            if not walk.open:
                break
            # every seed first; then the best open paths' ends, a bounded number per hop
            nodes = walk.wanted(None if depth == 0 else self.graph_frontier, fetched)
            if nodes:
                fetched.update(nodes)
                rows = self.queries.search_graph(
                    filters,
                    nodes,
                    embedding,
                    aspect_vectors,
                    fanout=self.graph_fanout,
                    hub_scan=self.graph_hub_scan,
                    listed=listed,
                    usage=usage,
                )
                # relation names are a small vocabulary: their embeddings are cached like the words'
                phrases = reader.relation_phrases(rows)
                vectors = aspects | dict(zip(phrases, self.phrases.get(phrases)))
                walk.add(*reader.read(rows, vectors))
            walk.step()

        def fetch(ids: list[str]) -> dict[str, Fact]:
            return {fact.id: fact for fact in self.queries.search_graph_facts(filters, ids, usage)}

        return blend(walk.best, reader.links, lists, bonus, filters, limit, fetch)


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


def _fact(data: dict[str, Any]) -> Fact:
    """A Fact from fragments/fact_projection, which sends times as UTC ISO strings (fast to
    decode); they are given datetime.timezone.utc, as graphmem's own times have."""
    fact = fact_from_record(data)
    for name in ("valid_from", "valid_to", "created_at", "updated_at"):
        value = getattr(fact, name)
        if value is not None and value.tzinfo is not UTC:
            setattr(fact, name, value.astimezone(UTC))
    return fact


def _parser() -> Callable[[dict[str, Any]], Fact]:
    """`_fact`, once per fact id."""
    read: dict[str, Fact] = {}

    def parse(data: dict[str, Any]) -> Fact:
        fact = read.get(data["id"])
        if fact is None:
            fact = read[data["id"]] = _fact(data)
        return fact

    return parse


def _entity_score(fact: Fact, similarity: float, weight: float, hop: int, now: datetime) -> float:
    """Similarity of fact to query first, then how surely the query is about the seed it
    was reached from and how near it is, then recency and how often it was said."""
    age_days = max((now - fact.valid_from).total_seconds() / 86400, 0.0)
    recency = 1.0 / (1.0 + age_days / 365)
    return 0.6 * similarity + 0.3 * weight / hop + 0.05 * recency + 0.05 * min(math.log1p(fact.mentions) / 3, 1.0)


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
