"""Retrieval: runs a search mode's recipe (`search.recipes`): its signals at once, then their
fusion: associative multi-hop recall (the default), reciprocal-rank fusion, one list as it is,
or the turns only. No LLM call unless asked for.

Associative recall: the named entities and the ends of the best hits seed `spread.Walk`, which
fetches the graph one hop at a time around the nodes its best paths reach
(cypher/search_graph.cypher; decisions in `search.associative`): a fact reached by a chain that
answers the question's parts ("Lena's brother" then "work") outranks a fact that answers only
one of them; blended with the lists (`fusion.blend`).

The signals the scope cache ranks (`cache.scope_cache`) rank from it when it holds the scope,
in one statement for them all; otherwise they scan in Neo4j, each with its own statement.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import partial
from typing import Any

from .._errors import InputError
from .._models import Fact, Scope, Usage, as_utc, normalize_label, normalize_relation, utcnow
from .._terms import query_stems, query_words
from .._tracing import scope_attributes, span
from ..cache.scope_cache import ListRequest, ScopeCache
from ..embed._phrases import PhraseVectors
from ..embed.base import Embedder
from ..llm.base import LLM
from ..store.queries import ExpandRow, Filters, IndexWidth, Queries, Seeding, SeedRow
from .associative import GraphReader, hit_seeds, walk_seeds
from .fusion import blend, fuse, list_bonus, walk_floor
from .recipes import DEFAULT_EPISODES, DEFAULT_MODE, MAX_CHAIN, MODES, RECIPES, SIGNALS, Ask, Mode, SignalSpec
from .results import EpisodeHit, Ranked, SearchHit, SearchResults, Signal, fact_parser, parse_fact
from .spread import SpreadConfig, Walk

__all__ = ["Retriever", "query_words"]


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
        recipe = RECIPES[mode]
        if not query or not query.strip():
            raise InputError("search query is empty: give the question or keywords to look for")
        if limit < 1 or fanout < 1 or (hops is not None and hops < 0) or episodes < 0:
            raise InputError("limit and fanout must be >= 1, hops and episodes >= 0")
        usage = usage or Usage()
        attributes = {"graphmem.mode": mode, "graphmem.limit": limit, **scope_attributes(scope)}
        with span("graphmem.search", attributes) as current:
            filters = Filters(
                scope,
                as_of=as_utc(as_of) if as_of else None,
                include_invalidated=include_invalidated,
                types=[normalize_label(t) for t in entity_types] if entity_types else None,
                relations=[normalize_relation(r) for r in relations] if relations else None,
            )
            words = query_words(query)
            if recipe.embeds and embedding is None:
                embedding = self._embed_query(query, words if recipe.embeds_words else [])
            ask = Ask(
                query,
                embedding,
                words,
                query_stems(query),
                filters,
                depth=max(limit * 3, 30),
                hops=hops,
                fanout=fanout,
                turns=limit if recipe.fusion == "turns" else episodes if recipe.turns else 0,
                use_llm_entities=use_llm_entities,
            )
            # the recipe's signals, at once; those the scope cache ranks from it when it holds the
            # scope (one statement for them all), unless the search filters on entity types, which
            # the cache does not hold
            wanted = [SIGNALS[name] for name in recipe.signals if SIGNALS[name].applies(ask)]
            cached = [s for s in wanted if s.cached is not None and s.cacheable(ask)]
            if self.cache is None or embedding is None or filters.types or not self.cache.ready(filters, usage):
                cached = []
            jobs: dict[str, Callable[[Usage], Any]] = {
                s.name: partial(s.scan, self, ask) for s in wanted if s not in cached
            }
            if cached and embedding is not None:
                fields: dict[str, Any] = {}
                for signal in cached:
                    fields |= signal.request(self, ask)
                request = ListRequest(embedding=embedding, **fields)
                jobs["cached"] = partial(self._cached, ask, request, cached)
            found = self._run(jobs, usage)
            found |= found.pop("cached", {})
            # in the recipe's order: fusion's ties
            facts = {s.name: found[s.name] for s in wanted if s.yields == "facts"}
            turns: list[EpisodeHit] = next((found[s.name] for s in wanted if s.yields == "turns"), [])[: ask.turns]
            seeds: list[SeedRow] = next((found[s.name] for s in wanted if s.yields == "seeds"), [])
            if recipe.fusion == "walk":
                chain = min(max(hops if hops is not None else MAX_CHAIN, 1), MAX_CHAIN)
                hits = self._associative(embedding, words, filters, facts, seeds, turns, chain, limit, usage)
            elif recipe.fusion == "rrf":
                hits = fuse(facts)
            elif recipe.fusion == "turns":
                hits = []
            else:  # "single"
                name = recipe.signals[0]
                hits = [
                    SearchHit(fact=f, score=score, hops=hop, signals={name: Signal(rank=i + 1, score=score)})
                    for i, (f, score, hop) in enumerate(facts.get(name, []))
                ]
            if self.cache is not None:
                self.cache.start_loads()  # a scope this search missed loads now that its work is done
            current.set_attribute("graphmem.hits", min(len(hits), limit))
            current.set_attribute("graphmem.episodes", len(turns))
            current.set_attribute("graphmem.neo4j_round_trips", usage.neo4j_round_trips)
            return SearchResults(hits[:limit], turns)

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

    def _cached(self, ask: Ask, request: ListRequest, signals: list[SignalSpec], usage: Usage) -> dict[str, Any]:
        """The `signals` through the scope cache, as their statements give them; through their
        statements when the cache cannot serve the scope after all."""
        assert self.cache is not None
        got = self.cache.lists(ask.filters, request, usage=usage)
        if got is None:
            return {s.name: s.scan(self, ask, usage) for s in signals}
        parse = fact_parser()  # a fact in several lists is read once
        return {s.name: s.cached(self, ask, got, parse, usage) for s in signals if s.cached is not None}

    def _width(self, want: int) -> IndexWidth:
        return IndexWidth(scan_max=self.scan_max, k_min=self.k_min, k_max=self.k_max, want=want)

    def _seeding(self, words: list[str]) -> Seeding:
        return Seeding(
            words=words, min_vector_score=self.min_vector_score, vector_seeds=self.vector_seeds, seeds=self.seeds
        )

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
        parse = parse or parse_fact
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


def _entity_score(fact: Fact, similarity: float, weight: float, hop: int, now: datetime) -> float:
    """Similarity of fact to query first, then how surely the query is about the seed it
    was reached from and how near it is, then recency and how often it was said."""
    age_days = max((now - fact.valid_from).total_seconds() / 86400, 0.0)
    recency = 1.0 / (1.0 + age_days / 365)
    return 0.6 * similarity + 0.3 * weight / hop + 0.05 * recency + 0.05 * min(math.log1p(fact.mentions) / 3, 1.0)
