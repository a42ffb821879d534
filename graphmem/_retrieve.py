"""Retrieval: entity-centric subgraph expansion, semantic triplet top-K, keyword search,
and their reciprocal-rank fusion (the default). No LLM call unless asked for.

* triplet: the scope's facts nearest to the query embedding.
* keyword: facts holding the query's words (a rare word weighs more than a common one).
* entity: the entities the query names (or, if it names none, the nearest entity names),
  then the facts around them, hop by hop; a fact's score mixes its similarity to the query
  with how surely the query is about the seed it was reached from and how far it is.
* hybrid: the three lists, run at once, fused by reciprocal rank; each hit keeps the rank
  and score every list gave it (`signals`).
"""

from __future__ import annotations

import math
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, Field

from ._errors import InputError
from ._extract import extract_entities
from ._models import ExtractionInput, Fact, Message, Scope, Usage, as_utc, normalize_label, normalize_relation, utcnow
from ._store import Store, fact_from_record
from .embed.base import Embedder
from .llm.base import LLM

Mode = Literal["hybrid", "entity", "triplet", "keyword"]
MODES: tuple[str, ...] = ("hybrid", "entity", "triplet", "keyword")
RRF_K = 60  # the usual reciprocal-rank-fusion constant: damps the weight of top ranks

_STOPWORDS = frozenset(
    "a an and are as at be by did do does for from had has have he her his how i in is it its me my of on or "
    "our she so that the their them they this to was we were what when where which who whom why will with "
    "you your about did does doing into than then there these those".split()
)


class Signal(BaseModel):
    rank: int
    score: float


class SearchHit(BaseModel):
    fact: Fact
    score: float
    signals: dict[str, Signal] = Field(default_factory=dict)
    hops: int | None = None

    def line(self) -> str:
        f = self.fact
        when = f.valid_from.date().isoformat()
        until = f" (until {f.valid_to.date().isoformat()})" if f.valid_to else ""
        return f"[{when}{until}] {f.fact} ({f.triplet()})"


class SearchResults(list[SearchHit]):
    """Hits, best first, with a renderer for LLM prompts."""

    def to_context(self, max_tokens: int = 2000) -> str:
        """Dated facts, most relevant first, cut at about `max_tokens` (4 characters a token)."""
        lines, used = [], 0
        for hit in self:
            line = "- " + hit.line()
            cost = math.ceil(len(line) / 4) + 1
            if used + cost > max_tokens:
                break
            lines.append(line)
            used += cost
        return "\n".join(lines)


def query_words(query: str) -> list[str]:
    """The query's content words, case-folded, deduplicated: letters, digits and _ only, so
    they are safe as Lucene terms and inside the word-match patterns of the Cypher files."""
    words = [w for w in re.findall(r"\w+", query.casefold()) if w not in _STOPWORDS and len(w) > 1]
    return list(dict.fromkeys(words))[:32]


def lucene_terms(query: str) -> str | None:
    """Word terms of the query, OR-ed, with every Lucene operator character dropped."""
    words = query_words(query)
    return " OR ".join(words) if words else None


class Retriever:
    """Every list is computed inside the scope. The vector and full-text indexes are shared by
    all scopes and Neo4j 5 cannot filter inside them, so a top-k over them starves a scope
    that holds a small share of the data. A scope of at most `scan_max` facts (entities, for
    seeds) is therefore scanned exactly through its property index; a larger one goes
    through the shared indexes, asking for k results scaled by its share of the data, within
    [k_min, k_max] (see cypher/search_triplets.cypher). bench/search_bench.py measures both."""

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
        self.parallel = parallel  # hybrid: the three lists' statements run at once, on 3 connections
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def search(
        self,
        query: str,
        scope: Scope,
        *,
        mode: Mode = "hybrid",
        limit: int = 10,
        hops: int = 1,
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
        if limit < 1 or hops < 0 or fanout < 1:
            raise InputError("limit and fanout must be >= 1 and hops >= 0")
        usage = usage or Usage()
        params: dict[str, Any] = {
            **scope.params(),
            "as_of": as_utc(as_of) if as_of else None,
            "include_invalidated": include_invalidated,
            "types": [normalize_label(t) for t in entity_types] if entity_types else None,
            "relations": [normalize_relation(r) for r in relations] if relations else None,
        }
        words = query_words(query)
        if mode != "keyword" and embedding is None:
            embedding = self.embedder.embed_one(query)
        depth = max(limit * 3, 30)
        jobs: dict[str, Any] = {}
        if mode in ("triplet", "hybrid"):
            jobs["triplet"] = lambda u: self._triplets(embedding, params, depth, u)
        if mode in ("keyword", "hybrid") and words:
            jobs["keyword"] = lambda u: self._keyword(words, params, depth, u)
        if mode in ("entity", "hybrid"):
            jobs["entity"] = lambda u: self._entities(
                query, embedding, words, params, depth, hops, fanout, use_llm_entities, u
            )
        lists = self._run(jobs, usage)
        if mode != "hybrid":
            hits = [
                SearchHit(fact=f, score=score, hops=hop, signals={mode: Signal(rank=i + 1, score=score)})
                for i, (f, score, hop) in enumerate(lists.get(mode, []))
            ]
            return SearchResults(hits[:limit])
        return SearchResults(fuse(lists)[:limit])

    def _run(self, jobs: dict[str, Any], usage: Usage) -> dict[str, list[tuple[Fact, float, int | None]]]:
        """Each list's statements; with several lists and `parallel`, at once (each into its
        own Usage, merged after, so the counts stay exact)."""
        if len(jobs) < 2 or not self.parallel:
            return {name: job(usage) for name, job in jobs.items()}
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="graphmem-search")
        usages = {name: Usage() for name in jobs}
        futures = {name: self._pool.submit(job, usages[name]) for name, job in jobs.items()}
        lists = {name: future.result() for name, future in futures.items()}
        for part in usages.values():
            usage.merge(part)
        return lists

    def _shared(self, want: int) -> dict[str, Any]:
        return {"scan_max": self.scan_max, "k_min": self.k_min, "k_max": self.k_max, "want": want}

    def _triplets(self, embedding, params, depth, usage) -> list[tuple[Fact, float, int | None]]:
        rows = self.store.run(
            "search_triplets",
            {**params, **self._shared(depth * 3), "embedding": embedding, "limit": depth},
            usage=usage,
        )
        return [(_fact(r["fact"]), float(r["score"]), None) for r in rows]

    def _keyword(self, words, params, depth, usage) -> list[tuple[Fact, float, int | None]]:
        rows = self.store.run(
            "search_keyword",
            {**params, **self._shared(depth * 3), "words": words, "lucene": " OR ".join(words), "limit": depth},
            usage=usage,
        )
        return [(_fact(r["fact"]), float(r["score"]), None) for r in rows]

    def _entities(
        self, query, embedding, words, params, depth, hops, fanout, use_llm, usage
    ) -> list[tuple[Fact, float, int | None]]:
        seed_words = words
        if use_llm and self.llm is not None:
            named = extract_entities(self.llm, ExtractionInput(messages=[Message(content=query)]), usage)
            seed_words = query_words(" ".join(e.name for e in named)) or words
        common = {**params, "embedding": embedding, "fanout": fanout}
        rows = self.store.run(
            "search_entities",
            {**common, **self._shared(self.seeds * 5), "words": seed_words,
             "lucene": " OR ".join(seed_words) or '""', "min_vector_score": self.min_vector_score,
             "vector_seeds": self.vector_seeds, "seeds": self.seeds},
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


def fuse(lists: dict[str, list[tuple[Fact, float, int | None]]]) -> list[SearchHit]:
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
