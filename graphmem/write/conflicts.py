"""Conflict detector: for each new triplet, the stored fact it restates (same ends and relation) and the
stored valid facts it may contradict. No LLM: graph lookups and vector similarity, in
one Neo4j round trip per add.

A stored fact is a candidate when it leaves the same source node with the same or a
semantically close relation, joins the same two nodes, or its sentence is close to the
new fact's sentence (the nearest valid facts of the scope: ranked by this process's search
cache when it holds the scope unchanged, graphmem/cache/near.py, else by the shared
relationship vector index).
"""

from __future__ import annotations

import math
import threading
from typing import Any

from .._models import ConflictCandidate, ConflictSet, Scope, Triplet, Usage
from .._names import relation_phrase
from ..cache.near import HeldScope
from ..embed._phrases import PhraseVectors
from ..embed.base import Embedder
from ..store.queries import FactProbe, Queries, StoredCandidate
from ..store.transport import fact_from_record


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


class ConflictDetector:
    def __init__(
        self,
        queries: Queries,
        embedder: Embedder,
        *,
        relation_threshold: float = 0.75,
        fact_threshold: float = 0.85,
        per_source: int = 200,
        k: int = 20,
        phrases: PhraseVectors | None = None,
    ):
        self.queries = queries
        self.embedder = embedder
        self.relation_threshold = relation_threshold
        self.fact_threshold = fact_threshold
        self.per_source = per_source
        self.k = k
        # relation names repeat across adds; their vectors are cached rather than re-embedded
        self.phrases = phrases or PhraseVectors(embedder)
        # the relation names this detector has judged: a stored fact of one of these that is
        # not similar to a new triplet's relation is left in Neo4j (cypher/conflict_candidates)
        self.known_relations: set[str] = set()
        self._known_lock = threading.Lock()

    def detect(
        self,
        scope: Scope,
        triplets: list[Triplet],
        ends: list[tuple[str, str]],
        fact_embeddings: list[list[float]],
        usage: Usage,
        *,
        queries: Queries | None = None,
        held: HeldScope | None = None,
    ) -> list[ConflictSet]:
        """A ConflictSet per triplet. `queries`: read through another door than the detector's
        own (an open transaction). `held`: the scope as this process's search cache holds it,
        which ranks the nearest facts instead of the shared vector index (when current)."""
        if not triplets:
            return []
        with self._known_lock:
            known = sorted(self.known_relations)
        new_relations = sorted({t.relation for t in triplets})
        vectors = self._relation_embeddings(sorted(set(known) | set(new_relations)))
        near = held.nearest_facts(fact_embeddings, self.k, self.fact_threshold) if held else [[] for _ in triplets]
        probes = [
            FactProbe(
                i=i,
                source_id=s,
                target_id=t,
                embedding=vec,
                relations=similar_relations(triplet.relation, known, vectors, self.relation_threshold),
                near=ranked,
            )
            for i, (triplet, (s, t), vec, ranked) in enumerate(zip(triplets, ends, fact_embeddings, near, strict=True))
        ]
        found = (queries or self.queries).conflict_candidates(
            scope,
            probes,
            known=known,
            k=self.k,
            per_source=self.per_source,
            min_score=self.fact_threshold,
            held=held,
            usage=usage,
        )
        stored = {r["i"]: r["candidates"] for r in found}
        unjudged = {c["fact"]["relation"] for cands in stored.values() for c in cands} - vectors.keys()
        vectors |= self._relation_embeddings(sorted(unjudged))
        with self._known_lock:
            self.known_relations.update(vectors)
        return [
            classify(i, triplet, ends[i], stored.get(i, []), vectors, self.relation_threshold)
            for i, triplet in enumerate(triplets)
        ]

    def _relation_embeddings(self, relations: list[str]) -> dict[str, list[float]]:
        vectors = self.phrases.get([relation_phrase(r) for r in relations])
        return dict(zip(relations, vectors))


def classify(
    index: int,
    triplet: Triplet,
    ends: tuple[str, str],
    stored: list[StoredCandidate] | list[dict[str, Any]],
    vectors: dict[str, list[float]],
    relation_threshold: float,
) -> ConflictSet:
    """What the stored facts cypher/conflict_candidates.cypher found (rows of `fact` and, for a
    sentence neighbour, `score`) are to a new triplet whose ends resolved to `ends`: its
    restated fact (same ends, same relation), or candidates it may contradict, each with why.
    `vectors` holds the relation names' embeddings. Pure: unit-tested without Neo4j."""
    source_id, target_id = ends
    result = ConflictSet(index=index, triplet=triplet, source_id=source_id, target_id=target_id)
    seen: set[str] = set()
    for row in stored:
        fact = fact_from_record(row["fact"])
        if fact.id in seen:
            continue
        seen.add(fact.id)
        same_source = fact.source_id == source_id
        if same_source and fact.target_id == target_id and fact.relation == triplet.relation:
            result.restated = fact
            continue
        if same_source and fact.relation == triplet.relation:
            result.candidates.append(ConflictCandidate(fact=fact, reason="same_relation", similarity=1.0))
        elif {fact.source_id, fact.target_id} == {source_id, target_id}:
            result.candidates.append(ConflictCandidate(fact=fact, reason="same_pair"))
        elif same_source:
            similarity = cosine(vectors[fact.relation], vectors[triplet.relation])
            if similarity >= relation_threshold:
                result.candidates.append(ConflictCandidate(fact=fact, reason="similar_relation", similarity=similarity))
        elif (score := row.get("score")) is not None:
            result.candidates.append(ConflictCandidate(fact=fact, reason="similar_fact", similarity=float(score)))
    return result


def similar_relations(
    relation: str, known: list[str], vectors: dict[str, list[float]], relation_threshold: float
) -> list[str]:
    """The relation itself and those of `known` that `classify` would take as similar to it:
    a new triplet's only candidates among its source's facts of known relations."""
    return [relation] + [
        other
        for other in known
        if other != relation and cosine(vectors[other], vectors[relation]) >= relation_threshold
    ]
