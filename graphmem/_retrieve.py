"""Retrieval: entity-centric subgraph expansion, semantic triplet top-K, keyword search,
and their reciprocal-rank fusion (the default). No LLM call unless asked for.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
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


def lucene_terms(query: str) -> str | None:
    """Word terms of the query, OR-ed, with every Lucene operator character dropped."""
    words = [w for w in re.findall(r"\w+", query.casefold()) if w not in _STOPWORDS and len(w) > 1]
    words = list(dict.fromkeys(words))[:32]
    return " OR ".join(words) if words else None


class Retriever:
    def __init__(self, store: Store, embedder: Embedder, llm: LLM | None = None):
        self.store = store
        self.embedder = embedder
        self.llm = llm

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
        lucene = lucene_terms(query)
        if mode != "keyword" and embedding is None:
            embedding = self.embedder.embed_one(query)
        depth = max(limit * 3, 30)
        lists: dict[str, list[tuple[Fact, float, int | None]]] = {}
        if mode in ("triplet", "hybrid"):
            lists["triplet"] = self._triplets(embedding, params, depth, usage)
        if mode in ("keyword", "hybrid") and lucene:
            lists["keyword"] = self._keyword(lucene, params, depth, usage)
        if mode in ("entity", "hybrid"):
            lists["entity"] = self._entities(
                query, embedding, lucene, scope, params, depth, hops, fanout, use_llm_entities, usage
            )
        if mode != "hybrid":
            hits = [
                SearchHit(fact=f, score=score, hops=hop, signals={mode: Signal(rank=i + 1, score=score)})
                for i, (f, score, hop) in enumerate(lists.get(mode, []))
            ]
            return SearchResults(hits[:limit])
        return SearchResults(fuse(lists)[:limit])

    def _triplets(self, embedding, params, depth, usage) -> list[tuple[Fact, float, int | None]]:
        # over-fetch: the vector index is shared by every scope and filtered afterwards
        rows = self.store.run(
            "search_triplets", {**params, "embedding": embedding, "k": max(depth * 10, 200), "limit": depth},
            usage=usage,
        )
        return [(fact_from_record(r["fact"]), float(r["score"]), None) for r in rows]

    def _keyword(self, lucene, params, depth, usage) -> list[tuple[Fact, float, int | None]]:
        rows = self.store.run(
            "search_keyword", {**params, "lucene": lucene, "k": max(depth * 10, 200), "limit": depth}, usage=usage
        )
        return [(fact_from_record(r["fact"]), float(r["score"]), None) for r in rows]

    def _entities(
        self, query, embedding, lucene, scope, params, depth, hops, fanout, use_llm, usage
    ) -> list[tuple[Fact, float, int | None]]:
        seed_lucene = lucene
        if use_llm and self.llm is not None:
            named = extract_entities(self.llm, ExtractionInput(messages=[Message(content=query)]), usage)
            seed_lucene = lucene_terms(" ".join(e.name for e in named)) or lucene
        seeds = self.store.run(
            "search_seed_entities",
            {**scope.params(), "embedding": embedding, "lucene": seed_lucene or "\"\"", "k": 50,
             "min_vector_score": 0.5, "seeds": 10},
            usage=usage,
        )
        now = utcnow()
        found: dict[str, tuple[Fact, float, int]] = {}
        frontier = [r["id"] for r in seeds]
        visited = set(frontier)
        for hop in range(1, max(hops, 1) + 1):
            if not frontier:
                break
            rows = self.store.run(
                "search_expand", {**params, "frontier": frontier, "embedding": embedding, "fanout": fanout},
                usage=usage,
            )
            next_frontier = []
            for r in rows:
                fact = fact_from_record(r["fact"])
                if fact.id not in found:
                    found[fact.id] = (fact, _entity_score(fact, float(r["similarity"] or 0.0), hop, now), hop)
                if r["next_id"] not in visited:
                    visited.add(r["next_id"])
                    next_frontier.append(r["next_id"])
            frontier = next_frontier
        ranked = sorted(found.values(), key=lambda x: x[1], reverse=True)
        return ranked[:depth]


def _entity_score(fact: Fact, similarity: float, hop: int, now: datetime) -> float:
    """Similarity of fact to query first, then nearness, recency and how often it was said."""
    age_days = max((now - fact.valid_from).total_seconds() / 86400, 0.0)
    recency = 1.0 / (1.0 + age_days / 365)
    return 0.7 * similarity + 0.2 / hop + 0.05 * recency + 0.05 * min(math.log1p(fact.mentions) / 3, 1.0)


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
