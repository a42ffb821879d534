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
* associative (default): triplet, keyword and episode lists at once, then one statement
  fetches the bounded subgraph around the seeds (the entities the query names and the ends of
  the best hits) and `_spread` walks it: a fact reached by a chain that answers the question's
  parts ("Lena's brother" then "work") outranks a fact that answers only one of them.
* episode: the stored turns only (`results.episodes`), by embedding and stemmed keywords.

associative and hybrid also return the best turns in `results.episodes` (`episodes=`).
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Literal, get_args

import numpy as np
from pydantic import BaseModel, Field

from . import _spread
from ._errors import InputError
from ._extract import extract_entities
from ._models import (
    Episode,
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
from ._conflicts import relation_phrase
from ._store import Store, fact_from_record
from ._terms import query_stems, query_words, stem, stem_text
from .embed._phrases import PhraseVectors
from .embed.base import Embedder
from .llm.base import LLM

__all__ = ["MODES", "Mode", "EpisodeHit", "Retriever", "SearchHit", "SearchResults", "Signal", "query_words"]

Mode = Literal["associative", "hybrid", "entity", "triplet", "keyword", "episode"]
MODES: tuple[str, ...] = get_args(Mode)
DEFAULT_MODE: Mode = "associative"
DEFAULT_EPISODES = 5  # turns returned beside the facts: enough context, ~150 tokens
MAX_CHAIN = 3  # facts on an associative chain (cypher/search_graph.cypher expands 3 hops at most)
RRF_K = 60  # the usual reciprocal-rank-fusion constant: damps the weight of top ranks
_EPISODE_MODES = ("associative", "hybrid", "episode")
RELATION_LOW, RELATION_HIGH = 0.35, 0.6  # cosine of an aspect word to a relation name -> match 0..1
HIT_SEEDS_WHEN_NAMED = 0.5  # weight of the hits' ends as seeds when the query names an entity
TURNS_TITLE = "Relevant conversation turns:"  # to_context: the turns' heading, after the facts

Ranked = list[tuple[Fact, float, int | None]]  # (fact, score, hops) best first


class Signal(BaseModel):
    rank: int
    score: float


class SearchHit(BaseModel):
    fact: Fact
    score: float
    signals: dict[str, Signal] = Field(default_factory=dict)
    hops: int | None = None
    via: list[str] = Field(default_factory=list)  # associative: ids of the facts chained before it

    def line(self) -> str:
        f = self.fact
        when = f.valid_from.date().isoformat()
        until = f" (until {f.valid_to.date().isoformat()})" if f.valid_to else ""
        return f"[{when}{until}] {f.fact} ({f.triplet()})"


class EpisodeHit(BaseModel):
    """A stored turn found for the query; `signals` holds its vector and keyword ranks."""

    episode: Episode
    score: float
    signals: dict[str, Signal] = Field(default_factory=dict)

    def line(self) -> str:
        e = self.episode
        return f"[{e.timestamp.date().isoformat()}] {e.speaker or e.role}: {e.content}"


class SearchResults(list[SearchHit]):
    """Fact hits, best first, plus `episodes` (the best stored turns), and a renderer for prompts."""

    def __init__(self, hits: Iterable[SearchHit] = (), episodes: Iterable[EpisodeHit] = ()):
        super().__init__(hits)
        self.episodes: list[EpisodeHit] = list(episodes)

    def to_context(self, max_tokens: int = 2000) -> str:
        """Dated facts, most relevant first, then the relevant turns (dated, with speaker), cut
        at about `max_tokens` (4 characters a token) before the first line that does not fit."""
        facts = [["- " + hit.line()] for hit in self]
        turns = [["- " + turn.line()] for turn in self.episodes]
        if turns:
            turns[0].insert(0, TURNS_TITLE)  # the title goes only with a turn under it
        lines: list[str] = []
        used = 0
        for group in facts + turns:
            cost = sum(math.ceil(len(line) / 4) + 1 for line in group)
            if used + cost > max_tokens:
                break
            lines += group
            used += cost
        return "\n".join(lines)


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
        store: Store,
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
        graph_fanout: int = 12,
        graph_frontier: int = 24,
        spread: _spread.SpreadConfig = _spread.SpreadConfig(),
        phrases: PhraseVectors | None = None,
    ):
        self.store = store
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
        self.spread = spread
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        # question words and relation names repeat: embedded once, cached
        self.phrases = phrases or PhraseVectors(embedder)

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
        params: dict[str, Any] = {
            **scope.params(),
            "as_of": as_utc(as_of) if as_of else None,
            "include_invalidated": include_invalidated,
            "types": [normalize_label(t) for t in entity_types] if entity_types else None,
            "relations": [normalize_relation(r) for r in relations] if relations else None,
        }
        words = query_words(query)
        stems = query_stems(query)
        if mode != "keyword" and embedding is None:
            embedding = self.embedder.embed_one(query)
        depth = max(limit * 3, 30)
        want_episodes = limit if mode == "episode" else episodes if mode in _EPISODE_MODES else 0
        jobs: dict[str, Callable[[Usage], Any]] = {}
        if mode in ("triplet", "hybrid", "associative"):
            jobs["triplet"] = lambda u: self._triplets(embedding, params, depth, u)
        if mode in ("keyword", "hybrid", "associative") and words:
            jobs["keyword"] = lambda u: self._keyword(words, stems, params, depth, u)
        if mode in ("entity", "hybrid"):
            jobs["entity"] = lambda u: self._entities(
                query, embedding, words, params, depth, hops or 1, fanout, use_llm_entities, u
            )
        if want_episodes:
            # associative also seeds its walk with the entities the best turns mention
            jobs["episode"] = lambda u: self._episodes(words, stems, embedding, params, max(want_episodes, 5), u)
        lists = self._run(jobs, usage)
        episode_hits = lists.pop("episode", [])[:want_episodes]
        if mode == "associative":
            chain = min(max(hops if hops is not None else MAX_CHAIN, 1), MAX_CHAIN)
            hits = self._associative(query, embedding, words, params, lists, episode_hits, chain, usage)
        elif mode == "hybrid":
            hits = fuse(lists)
        elif mode == "episode":
            hits = []
        else:
            hits = [
                SearchHit(fact=f, score=score, hops=hop, signals={mode: Signal(rank=i + 1, score=score)})
                for i, (f, score, hop) in enumerate(lists.get(mode, []))
            ]
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

    def _shared(self, want: int) -> dict[str, Any]:
        return {"scan_max": self.scan_max, "k_min": self.k_min, "k_max": self.k_max, "want": want}

    def _triplets(self, embedding, params, depth, usage) -> Ranked:
        rows = self.store.run(
            "search_triplets",
            {**params, **self._shared(depth * 3), "embedding": embedding, "limit": depth},
            usage=usage,
        )
        return [(_fact(r["fact"]), float(r["score"]), None) for r in rows]

    def _keyword(self, words, stems, params, depth, usage) -> Ranked:
        # an exactly scanned scope matches stems as word prefixes; the full-text indexes stem
        # the words themselves (english analyzer)
        rows = self.store.run(
            "search_keyword",
            {**params, **self._shared(depth * 3), "words": stems, "lucene": " OR ".join(words),
             "limit": depth},
            usage=usage,
        )
        return [(_fact(r["fact"]), float(r["score"]), None) for r in rows]

    def _episodes(self, words, stems, embedding, params, count, usage) -> list[EpisodeHit]:
        rows = self.store.run(
            "search_episodes",
            {**params, **self._shared(count * 3), "embedding": embedding, "stems": stems,
             "lucene": " OR ".join(words) if words else None, "limit": count},
            usage=usage,
        )
        return fuse_episodes(rows)[:count]

    def _entities(self, query, embedding, words, params, depth, hops, fanout, use_llm, usage) -> Ranked:
        seed_words = words
        if use_llm and self.llm is not None:
            named = extract_entities(self.llm, ExtractionInput(messages=[Message(content=query)]), usage)
            seed_words = query_words(" ".join(e.name for e in named)) or words
        common = {**params, "embedding": embedding, "fanout": fanout}
        rows = self.store.run(
            "search_entities",
            {**common, **self._shared(self.seeds * 5), **self._seed_params(seed_words)},
            usage=usage,
        )
        now = utcnow()
        found: dict[str, tuple[Fact, float, int]] = {}
        visited = {r["from_id"] for r in rows}  # the seeds
        frontier: dict[str, float] = {}  # node id -> weight of the seed it was reached from
        for hop in range(1, max(hops, 1) + 1):
            if hop > 1:
                if not frontier:
                    break
                rows = self.store.run(
                    "search_expand",
                    {**common, "frontier": [{"id": node, "weight": w} for node, w in frontier.items()]},
                    usage=usage,
                )
            reached: dict[str, float] = {}
            for r in rows:
                fact, weight = _fact(r["fact"]), float(r["weight"])
                score = _entity_score(fact, float(r["similarity"] or 0.0), weight, hop, now)
                if fact.id not in found or score > found[fact.id][1]:
                    found[fact.id] = (fact, score, hop)
                if r["next_id"] not in visited:
                    reached[r["next_id"]] = max(weight, reached.get(r["next_id"], 0.0))
            visited.update(reached)
            frontier = reached
        ranked = sorted(found.values(), key=lambda x: x[1], reverse=True)
        return ranked[:depth]

    def _seed_params(self, words: list[str]) -> dict[str, Any]:
        return {"words": words, "lucene": " OR ".join(words) or '""', "min_vector_score": self.min_vector_score,
                "vector_seeds": self.vector_seeds, "seeds": self.seeds}

    # -- associative ------------------------------------------------------------------
    def _associative(
        self,
        query: str,
        embedding: list[float] | None,
        words: list[str],
        params: dict[str, Any],
        lists: dict[str, Ranked],
        episodes: list[EpisodeHit],
        hops: int,
        usage: Usage,
    ) -> list[SearchHit]:
        """Seeds from the lists found so far, one statement for the subgraph, then the walk."""
        seeds = hit_seeds(lists, episodes)
        word_vectors = self.phrases.get(words)
        rows = self.store.run(
            "search_graph",
            {**params, **self._shared(self.seeds * 5), **self._seed_params(words), "types": None,
             "relations": None, "embedding": embedding, "aspects": word_vectors,
             "hit_seeds": [{"id": node, "weight": w} for node, w in seeds.items()], "hops": hops,
             "fanout": self.graph_fanout, "frontier": self.graph_frontier},
            usage=usage,
        )
        graph = rows[0] if rows else None
        # relation names are a small vocabulary: their embeddings are cached like the words'
        phrases = sorted({relation_phrase(row["fact"]["predicate"]) for row in graph["edges"]} if graph else set())
        vectors = dict(zip(words, word_vectors)) | dict(zip(phrases, self.phrases.get(phrases)))
        config = dataclasses.replace(self.spread, max_hops=hops)
        return associative_ranking(words, graph, seeds, lists, params, config, vectors)

def hit_seeds(lists: dict[str, Ranked], episodes: list[EpisodeHit]) -> dict[str, float]:
    """Where the walk starts besides the named entities: the ends of the best fact hits and the
    entities the best turns mention, weighted below a named entity (1.0)."""
    seeds: dict[str, float] = {}

    def seed(node: str | None, weight: float) -> None:
        if node:
            seeds[node] = max(weight, seeds.get(node, 0.0))

    for fact, score, _ in lists.get("triplet", [])[:5]:
        seed(fact.source_id, 0.6 * max(score, 0.0))
        seed(fact.target_id, 0.6 * max(score, 0.0))
    for rank, (fact, _, _) in enumerate(lists.get("keyword", [])[:5]):
        seed(fact.source_id, 0.3 / (1 + rank))
        seed(fact.target_id, 0.3 / (1 + rank))
    for rank, hit in enumerate(episodes[:3]):
        for node in hit.episode.entity_ids:
            seed(node, 0.3 / (1 + rank))
    return seeds


def associative_ranking(
    words: list[str],
    graph: dict[str, Any] | None,
    seeds: dict[str, float],
    lists: dict[str, Ranked],
    params: dict[str, Any],
    config: _spread.SpreadConfig,
    vectors: dict[str, list[float]],
) -> list[SearchHit]:
    """The walk over the subgraph of cypher/search_graph.cypher (`graph`: its one row), blended
    with the other lists. The query's words that name a seed are where the walk starts; the
    others are the aspects a chain must answer. A fact matches an aspect by the best of: it
    says the word (stemmed); its sentence's embedding is near the word's; its relation name's
    embedding is near the word's (`vectors` holds both; names in a sentence blur its
    embedding, a relation name does not)."""
    named = graph["named"] if graph else []
    # when the query names an entity outright, the walk starts there first; the ends of the
    # best hits are often other people's look-alike facts
    scale = HIT_SEEDS_WHEN_NAMED if any(float(item["weight"]) >= 1.0 for item in named) else 1.0
    seeds = {node: weight * scale for node, weight in seeds.items()}
    for item in named:
        seeds[item["id"]] = max(float(item["weight"]), seeds.get(item["id"], 0.0))
    name_words = {w for item in named if float(item["weight"]) > 0 for w in item["name"].split()}
    keep = [i for i, w in enumerate(words) if w not in name_words]
    stems = [stem(words[i]) for i in keep]
    relation_match = _relation_matches([words[i] for i in keep], vectors)
    facts: dict[str, Fact] = {}
    edges: list[_spread.Edge] = []
    degree: dict[str, int] = {}
    # where a relation's name says an aspect's word, another relation only near it in meaning
    # counts half: MiniLM puts "sister" near brother_of, and the question said sister
    named_by_relation = {
        j for j, s in enumerate(stems)
        if any(s in _relation_stems(row["fact"]["predicate"]) for row in (graph["edges"] if graph else []))
    }
    for row in graph["edges"] if graph else []:
        fact = _fact(row["fact"])
        facts[fact.id] = fact
        degree[fact.source_id or ""] = int(row["source_degree"])
        degree[fact.target_id or ""] = int(row["target_degree"])
        said, own = _fact_stems(fact), _relation_stems(fact.relation)
        # vector.similarity.cosine answers (1 + cosine) / 2; the walk wants the cosine
        cosines = [2.0 * x - 1.0 for x in row["aspect_sims"] or []]
        matches = []
        for j, (s, i) in enumerate(zip(stems, keep)):
            by_name = relation_match(fact.relation, j)
            if j in named_by_relation and s not in own:
                by_name /= 2
            matches.append(max(_spread.aspect_match(s in said, cosines[i]), by_name))
        edges.append(_spread.Edge(
            fact_id=fact.id, source_id=fact.source_id or "", target_id=fact.target_id or "",
            similarity=float(row["similarity"] or 0.0), aspects=tuple(matches),
        ))
    reached = _spread.spread(seeds, edges, degree, config)
    return blend(facts, reached, lists, params)


def _relation_matches(aspects: list[str], vectors: dict[str, list[float]]) -> Callable[[str, int], float]:
    """match(relation, j): how near relation's name is to aspect j, from the cached embeddings
    (MiniLM puts a word ~0.5-0.8 from a relation name that means it, ~0.2-0.35 otherwise)."""
    if not aspects:
        return lambda relation, j: 0.0
    words = np.array([vectors[a] for a in aspects], dtype=np.float32)
    known: dict[str, np.ndarray] = {}

    def match(relation: str, j: int) -> float:
        if relation not in known:
            vector = vectors.get(relation_phrase(relation))
            cosines = words @ np.array(vector, dtype=np.float32) if vector is not None else np.zeros(len(aspects))
            known[relation] = np.clip((cosines - RELATION_LOW) / (RELATION_HIGH - RELATION_LOW), 0.0, 1.0)
        return float(known[relation][j])

    return match


@lru_cache(maxsize=4096)
def _relation_stems(relation: str) -> frozenset[str]:
    return frozenset(stem_text(relation_phrase(relation)).split())


def _fact_stems(fact: Fact) -> set[str]:
    """What a fact says, as stems: its sentence, relation name and end types."""
    text = f"{fact.fact} {relation_phrase(fact.relation)} {fact.source_type} {fact.target_type}"
    return set(stem_text(text).split())


def blend(
    facts: dict[str, Fact], reached: dict[str, _spread.Reach], lists: dict[str, Ranked], params: dict[str, Any]
) -> list[SearchHit]:
    """The walk's ranking, with the triplet and keyword lists' reciprocal ranks as a tie-breaker
    and as the only score of facts the walk did not reach; the types / relations filters
    apply to the results, not to the chains that led to them."""
    hits: dict[str, SearchHit] = {}
    for fact_id, reach in reached.items():
        hits[fact_id] = SearchHit(
            fact=facts[fact_id], score=reach.score, hops=reach.hops, via=list(reach.via),
            signals={"graph": Signal(rank=0, score=reach.score)},
        )
    for signal, items in lists.items():
        for rank, (fact, score, _) in enumerate(items, start=1):
            hit = hits.setdefault(fact.id, SearchHit(fact=fact, score=0.0))
            hit.score += 1.0 / (RRF_K + rank)
            hit.signals[signal] = Signal(rank=rank, score=score)
    ranked = [h for h in hits.values() if _passes(h.fact, params)]
    ranked.sort(key=lambda h: h.score, reverse=True)
    graph_rank = 0
    for hit in ranked:
        if "graph" in hit.signals:
            graph_rank += 1
            hit.signals["graph"].rank = graph_rank
    return ranked


def _passes(fact: Fact, params: dict[str, Any]) -> bool:
    types, relations = params.get("types"), params.get("relations")
    if types and fact.source_type not in types and fact.target_type not in types:
        return False
    return not relations or fact.relation in relations


def _fact(data: dict[str, Any]) -> Fact:
    """A Fact from fragments/fact_projection, which sends times as UTC ISO strings (fast to
    decode); they are given datetime.timezone.utc, as graphmem's own times have."""
    fact = fact_from_record(data)
    for name in ("valid_from", "valid_to", "created_at", "updated_at"):
        value = getattr(fact, name)
        if value is not None and value.tzinfo is not timezone.utc:
            setattr(fact, name, value.astimezone(timezone.utc))
    return fact


def _entity_score(fact: Fact, similarity: float, weight: float, hop: int, now: datetime) -> float:
    """Similarity of fact to query first, then how surely the query is about the seed it
    was reached from and how near it is, then recency and how often it was said."""
    age_days = max((now - fact.valid_from).total_seconds() / 86400, 0.0)
    recency = 1.0 / (1.0 + age_days / 365)
    return (0.6 * similarity + 0.3 * weight / hop + 0.05 * recency
            + 0.05 * min(math.log1p(fact.mentions) / 3, 1.0))


def fuse(lists: dict[str, Ranked]) -> list[SearchHit]:
    """Reciprocal-rank fusion, deduplicated by fact id, with each signal's rank kept."""
    hits: dict[str, SearchHit] = {}
    for signal, items in lists.items():
        for rank, (fact, score, hop) in enumerate(items, start=1):
            hit = hits.setdefault(fact.id, SearchHit(fact=fact, score=0.0, hops=hop))
            hit.score += 1.0 / (RRF_K + rank)
            hit.signals[signal] = Signal(rank=rank, score=score)
            if hop is not None:
                hit.hops = hop
    return sorted(hits.values(), key=lambda h: h.score, reverse=True)


def fuse_episodes(rows: list[dict[str, Any]]) -> list[EpisodeHit]:
    """The turns of cypher/search_episodes.cypher fused by reciprocal rank of their vector and
    keyword scores, each kept as a signal."""
    hits: dict[str, EpisodeHit] = {}
    for signal in ("vector", "keyword"):
        scored = [r for r in rows if r[signal] is not None and (signal == "vector" or r[signal] > 0)]
        scored.sort(key=lambda r: r[signal], reverse=True)
        for rank, row in enumerate(scored, start=1):
            episode = row["episode"]
            hit = hits.get(episode["id"])
            if hit is None:
                hit = hits[episode["id"]] = EpisodeHit(episode=episode_from_record(episode), score=0.0)
            hit.score += 1.0 / (RRF_K + rank)
            hit.signals[signal] = Signal(rank=rank, score=float(row[signal]))
    return sorted(hits.values(), key=lambda h: h.score, reverse=True)


def episode_from_record(data: dict[str, Any]) -> Episode:
    """An Episode from fragments/episode_projection (times as UTC ISO strings)."""
    episode = Episode.model_validate({k: v for k, v in data.items() if v is not None})
    episode.timestamp = episode.timestamp.astimezone(timezone.utc)
    return episode
