"""Node matcher: links each extracted entity to an existing node of its scope, or a new one.

One Neo4j round trip per add: an exact lookup on the normalised name plus the nearest
nodes of the scope by name embedding (ranked by this process's search cache when it holds the
scope unchanged, graphmem/cache/near.py; else compared exactly in a scope of up to `scan_max`
entities, through the shared entity vector index in a larger one). Their scores are Neo4j's
vector similarity, (1 + cosine) / 2. A vector neighbour is taken only when it is close
enough (threshold), its type is compatible, and its name is compatible: one name's words
contain the other's ("alice" ~ "alice smith"), or the vectors are nearly identical (strict
threshold: cosine 0.95) and, for people, the names are spelled alike. Relatives share a
surname, and MiniLM puts such names close: "Carlos Nakamura" / "Rafael Nakamura" reach
cosine 0.944 (the nearest of 10 million pairs of distinct first-and-last names), so the
embedding alone never decides that two people are one. Names carrying different numbers are
never the same entity, however close their vectors ("Room 101" / "Room 102").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from .._models import Entity, NodeMatch, Scope, Usage, normalize_name
from ..cache.near import HeldScope
from ..store.ids import entity_id
from ..store.queries import EntityCandidates, EntityProbe, IndexWidth, Queries

KEEP = 5  # nearest nodes considered per extracted entity
PERSON_TYPES = frozenset({"Person", "Individual", "Human", "User", "People", "Speaker"})
TYPE_GROUPS = [
    PERSON_TYPES,
    {"City", "Place", "Location", "Town", "Country", "Region", "Area"},
    {"Organization", "Organisation", "Company", "Employer", "Business", "Institution"},
]


def types_compatible(a: str, b: str) -> bool:
    if a == b or "Entity" in (a, b):
        return True
    return any(a in group and b in group for group in TYPE_GROUPS)


def numbers_agree(a: str, b: str) -> bool:
    return re.findall(r"\d+", a) == re.findall(r"\d+", b)


def names_compatible(a: str, b: str) -> bool:
    words_a, words_b = set(a.split()), set(b.split())
    return bool(words_a and words_b) and (words_a <= words_b or words_b <= words_a)


def spelled_alike(a: str, b: str, ratio: float = 0.85) -> bool:
    """One name spelled two ways (a typo, an accent dropped), not two names ("carlos nakamura" /
    "rafael nakamura": 0.67): difflib's ratio of the normalised names."""
    return SequenceMatcher(None, a, b).ratio() >= ratio


@dataclass
class EntityMatches:
    """Each entity's NodeMatch by normalised name, and the scope's write clock as it was read
    before them (None when nothing was read: an add without entities)."""

    nodes: dict[str, NodeMatch]
    scope_version: int | None


class NodeMatcher:
    def __init__(
        self,
        queries: Queries,
        *,
        threshold: float = 0.8,
        strict_threshold: float = 0.975,
        k: int = 50,
        scan_max: int = 2000,
        k_max: int = 5000,
    ):
        self.queries = queries
        # similarities as Neo4j gives them, (1 + cosine) / 2: 0.8 is cosine 0.6, 0.975 is 0.95
        self.threshold = threshold
        self.strict_threshold = strict_threshold
        self.k = k  # neighbours asked of the shared vector index, before scaling by the scope's share
        self.scan_max = scan_max  # scopes of at most this many entities are compared exactly
        self.k_max = k_max

    def match(
        self,
        scope: Scope,
        entities: list[Entity],
        embeddings: list[list[float]],
        usage: Usage,
        *,
        queries: Queries | None = None,
        held: HeldScope | None = None,
    ) -> EntityMatches:
        """Map each entity's normalised name to its NodeMatch. `queries`: read through another
        door than the matcher's own (an open transaction). `held`: the scope as this process's
        search cache holds it, which ranks the nearest nodes instead of Neo4j (when current)."""
        if not entities:
            return EntityMatches(nodes={}, scope_version=None)
        near = held.nearest_entities(embeddings, KEEP) if held else [[] for _ in entities]
        probes = [
            EntityProbe(
                i=i,
                normalized=normalize_name(e.name),
                id=entity_id(scope, normalize_name(e.name)),
                embedding=vec,
                near=ranked,
            )
            for i, (e, vec, ranked) in enumerate(zip(entities, embeddings, near, strict=True))
        ]
        width = IndexWidth(scan_max=self.scan_max, k_min=self.k, k_max=self.k_max, want=self.k)
        found = (queries or self.queries).match_entities(scope, probes, keep=KEEP, width=width, held=held, usage=usage)
        by_index = {r["i"]: r for r in found}
        # one value for the whole statement; every row carries it
        scope_version = found[0]["scope_version"] if found else 0
        matches: dict[str, NodeMatch] = {}
        for row, entity in zip(probes, entities):
            hit: EntityCandidates | dict[str, Any] = by_index.get(row["i"], {})
            matches[row["normalized"]] = decide(
                scope, entity, row["normalized"], hit, self.threshold, self.strict_threshold
            )
        return EntityMatches(nodes=matches, scope_version=scope_version)


def decide(
    scope: Scope,
    entity: Entity,
    normalized: str,
    found: EntityCandidates | dict[str, Any],
    threshold: float,
    strict_threshold: float,
) -> NodeMatch:
    """Which node an extracted entity is, from what cypher/match_entities.cypher found for it
    (`exact`: the node of the same normalised name; `near`: the nearest nodes by name
    embedding, best first, scored (1 + cosine) / 2). Pure: unit-tested without Neo4j."""

    def node(node_id: str, matched_name: str | None = None, score: float | None = None) -> NodeMatch:
        return NodeMatch(
            name=entity.name,
            type=entity.type,
            normalized=normalized,
            node_id=node_id,
            matched=matched_name is not None,
            matched_name=matched_name,
            score=score,
        )

    exact = found.get("exact")
    if exact:
        return node(exact["id"], exact["name"], 1.0)
    for near in found.get("near") or []:
        score = float(near["score"])
        if (
            score < threshold
            or not types_compatible(entity.type, near["type"])
            or not numbers_agree(normalized, near["normalized"])
        ):
            continue
        if names_compatible(normalized, near["normalized"]) or (
            score >= strict_threshold
            and (
                not (entity.type in PERSON_TYPES or near["type"] in PERSON_TYPES)
                or spelled_alike(normalized, near["normalized"])
            )
        ):
            return node(near["id"], near["name"], score)
    return node(entity_id(scope, normalized))
