"""Associative recall's decisions, pure (no I/O): where the walk starts, what the query's
parts (aspects) are, and how well each fetched fact answers each part. The retriever
(`search.retrieve.Retriever._associative`) fetches the graph hop by hop (cypher/search_graph.cypher)
and `spread.Walk` walks it.

* Seeds: the entities the query names (cypher/search_seed_entities.cypher), look-alikes
  damped, plus the ends of the best fact hits and the entities of the best turns, below them.
* Aspects: the query's words other than the seeds' names ("brother", "work").
* A fact matches an aspect by the best of: it says the word (stemmed); its sentence's
  embedding is near the word's; its relation's name is near the word's; its relation's facts
  often say the word. Names in a sentence blur its embedding, a relation name does not.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from .._names import relation_phrase
from .._terms import stem, stem_text
from .spread import Edge, aspect_match

if TYPE_CHECKING:
    from ..store.queries import GraphRow, SeedRow
    from .results import EpisodeHit, Ranked

__all__ = ["GraphReader", "hit_seeds", "named_weights", "relation_usage", "walk_seeds"]

RELATION_LOW, RELATION_HIGH = 0.35, 0.6  # cosine of an aspect word to a relation name -> match 0..1
HIT_SEEDS_WHEN_NAMED = 0.5  # weight of the hits' ends as seeds when the query names an entity
LOOKALIKE_NAME = 0.2  # weight kept by a named seed that matched only words of a name given in full


def hit_seeds(lists: dict[str, Ranked], episodes: Sequence[EpisodeHit]) -> dict[str, float]:
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


def named_weights(named: Sequence[SeedRow], words: list[str]) -> dict[str, float]:
    """The named seeds' weights (rows of search_seed_entities: id, normalized, score),
    look-alikes damped: an entity that matched only words of a name the query gives in full
    (Ben Frank, by "Frank" of "Viktor Frank") is someone the query does not name."""
    query = set(words)
    full = {w for item in named if float(item["score"]) >= 1.0 for w in item["normalized"].split()}
    weights: dict[str, float] = {}
    for item in named:
        weight, matched = float(item["score"]), set(item["normalized"].split()) & query
        if weight < 1.0 and matched <= full:
            weight *= LOOKALIKE_NAME
        weights[item["id"]] = max(weight, weights.get(item["id"], 0.0))
    return weights


def walk_seeds(named: Sequence[SeedRow], hits: dict[str, float], words: list[str]) -> dict[str, float]:
    """The walk's seeds: the named entities, and the hits' ends below them. When the query
    names an entity outright, the ends of the best hits are often other people's look-alike
    facts, so they weigh HIT_SEEDS_WHEN_NAMED of their weight."""
    scale = HIT_SEEDS_WHEN_NAMED if any(float(item["score"]) >= 1.0 for item in named) else 1.0
    seeds = {node: weight * scale for node, weight in hits.items()}
    for node, weight in named_weights(named, words).items():
        seeds[node] = max(weight, seeds.get(node, 0.0))
    return seeds


def relation_usage(links: Iterable[tuple[str, frozenset[str]]], stems: list[str]) -> dict[str, list[float]]:
    """For each relation, how much its facts (relation, stems said) say each aspect stem: twice
    the share of them that do, at most 1. A third of the `lives_in` facts say "based in", so
    "where is Lena based?" finds Lena's `lives_in` fact that says "lives in", though the
    relation's name is not near the word (MiniLM: "based" / "lives in" 0.34): the
    conversation's own wording."""
    total: dict[str, int] = defaultdict(int)
    saying: dict[str, list[int]] = {}
    for relation, said in links:
        total[relation] += 1
        counts = saying.setdefault(relation, [0] * len(stems))
        for j, s in enumerate(stems):
            counts[j] += s in said
    return {relation: [min(1.0, 2.0 * c / total[relation]) for c in counts] for relation, counts in saying.items()}


class GraphReader:
    """Rows of cypher/search_graph.cypher, hop after hop, as the walk's edges. Keeps every row
    read (`links`, by fact id), since how a relation is worded is learnt from all of them."""

    def __init__(self, words: list[str], named: Sequence[SeedRow]):
        name_words = {w for item in named if float(item["score"]) > 0 for w in item["normalized"].split()}
        self.aspects = [w for w in words if w not in name_words]
        self.stems = [stem(w) for w in self.aspects]
        self.links: dict[str, GraphRow] = {}
        self._said: dict[str, frozenset[str]] = {}

    @staticmethod
    def relation_phrases(rows: Sequence[GraphRow]) -> list[str]:
        """The relation names to embed before `read` (the caller caches them)."""
        return sorted({relation_phrase(row["relation"]) for row in rows})

    def read(self, rows: Sequence[GraphRow], vectors: dict[str, list[float]]) -> tuple[list[Edge], dict[str, int]]:
        """Rows -> edges and the fact counts of their ends. `vectors` holds the aspects' and the
        relation phrases' embeddings; a row's `aspect_sims` are vector.similarity.cosine
        values, (1 + cosine) / 2, one per aspect."""
        degree: dict[str, int] = {}
        for row in rows:
            self.links.setdefault(row["id"], row)
            if row["id"] not in self._said:
                self._said[row["id"]] = _said(row["text"], row["relation"], row["source_type"], row["target_type"])
            degree[row["source_id"]] = int(row["source_degree"])
            degree[row["target_id"]] = int(row["target_degree"])
        stems = self.stems
        usage = relation_usage(((link["relation"], self._said[i]) for i, link in self.links.items()), stems)
        by_name = _relation_matches(self.aspects, vectors)
        # where a relation's name says an aspect's word, another relation only near it in meaning
        # counts half: MiniLM puts "sister" near brother_of, and the question said sister
        relations = {link["relation"] for link in self.links.values()}
        named_by_relation = {j for j, s in enumerate(stems) if any(s in _relation_stems(r) for r in relations)}
        edges = []
        for row in rows:
            relation = row["relation"]
            said, own = self._said[row["id"]], _relation_stems(relation)
            cosines = [2.0 * x - 1.0 for x in row["aspect_sims"] or []]
            matches = []
            for j, s in enumerate(stems):
                worded = max(by_name(relation, j), usage[relation][j])
                if j in named_by_relation and s not in own:
                    worded /= 2
                matches.append(max(aspect_match(s in said, cosines[j]), worded))
            edges.append(
                Edge(
                    fact_id=row["id"],
                    source_id=row["source_id"],
                    target_id=row["target_id"],
                    similarity=float(row["similarity"] or 0.0),
                    aspects=tuple(matches),
                    relation=relation,
                )
            )
        return edges, degree


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


@lru_cache(maxsize=65536)  # the same facts come back search after search
def _said(text: str, relation: str, source_type: str | None, target_type: str | None) -> frozenset[str]:
    """What a fact says, as stems: its sentence, relation name and end types."""
    return frozenset(stem_text(f"{text} {relation_phrase(relation)} {source_type or ''} {target_type or ''}").split())
