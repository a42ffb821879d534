"""Associative recall over a fetched subgraph: which facts answer a question that needs a
chain of facts ("where does Lena's brother work?"). Pure: no I/O, unit-tested without Neo4j.

Activation spreads from seed entities (the ones the query names, plus the ends of the best
fact and turn hits) along facts, up to `max_hops` facts away. A path carries which parts of
the question it has answered so far: the query's *aspects* are its content words other than
the seeds' names ("brother", "work"), and each fact matches each aspect in [0, 1] (its
relation, sentence or entity types say the word, or its sentence embedding is near the
word's). A path scores

    seed weight x hub damping x decay^(facts - 1) x answers x (coverage + relevance x similarity)

where coverage is the mean, over aspects, of the best match along the path, similarity is the
last fact's to the query, answers grows with the last fact's own best aspect match (a path
whose last fact asks nothing of the question drifts), and a fact scores the best path that
ends with it. So "Lena -brother-> Jonas -works_at-> Bosch" covers
{brother, work} and beats Lena's own job, which covers {work} only; for "where does Lena
work?" the longer path covers nothing more and loses by its decay. Personalized PageRank, the
usual choice, ranks a seed's direct neighbours first whatever the question asks, which is
the answer to a 1-hop question only. Hub damping keeps a node with very many facts (the
speaker's own node) from passing its activation everywhere.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Edge:
    """One fact as the walk sees it: its ends, its similarity to the query, its match to
    each aspect of the query (same order as the aspects), in [0, 1]."""

    fact_id: str
    source_id: str
    target_id: str
    similarity: float
    aspects: tuple[float, ...] = ()


@dataclass
class Reach:
    """The best path found to a fact: its score and the facts before it, seed side first."""

    score: float
    via: tuple[str, ...] = ()
    seed: str = ""

    @property
    def hops(self) -> int:
        return len(self.via) + 1


@dataclass(frozen=True)
class SpreadConfig:
    max_hops: int = 3
    decay: float = 0.8  # per extra fact on a path: a longer chain must answer more to win
    relevance: float = 0.3  # weight of the last fact's own similarity to the query
    drift: float = 0.3  # share of a path's score left when its last fact matches no aspect
    hub_degree: int = 20  # an inner node with more facts than this passes on less
    beam: int = 400  # partial paths kept per depth


@dataclass(frozen=True)
class _Path:
    node: str
    seed: str
    weight: float  # seed weight x hub damping so far
    covered: tuple[float, ...]
    facts: tuple[str, ...]
    nodes: frozenset[str] = field(default_factory=frozenset)


def spread(
    seeds: dict[str, float],
    edges: list[Edge],
    degree: dict[str, int],
    config: SpreadConfig = SpreadConfig(),
) -> dict[str, Reach]:
    """For each fact reachable from the seeds, the best path that ends with it."""
    around: dict[str, list[Edge]] = defaultdict(list)
    for edge in edges:
        around[edge.source_id].append(edge)
        if edge.target_id != edge.source_id:
            around[edge.target_id].append(edge)
    width = len(edges[0].aspects) if edges else 0
    best: dict[str, Reach] = {}
    frontier = [
        _Path(node=node, seed=node, weight=weight, covered=(0.0,) * width, facts=(), nodes=frozenset([node]))
        for node, weight in seeds.items() if weight > 0 and node in around
    ]
    for depth in range(1, config.max_hops + 1):
        grown: list[tuple[float, _Path]] = []
        for path in frontier:
            # the seed's own fan-out is not damped (the query is about it); inner nodes are
            damping = 1.0 if depth == 1 else hub_damping(degree.get(path.node, 1), config.hub_degree)
            weight = path.weight * damping
            for edge in around[path.node]:
                if edge.fact_id in path.facts:
                    continue
                other = edge.target_id if edge.source_id == path.node else edge.source_id
                if other in path.nodes and other != path.node:
                    continue  # no cycles: a chain that comes back adds nothing
                covered = tuple(max(a, b) for a, b in zip(path.covered, edge.aspects))
                coverage = sum(covered) / width if width else 0.0
                # the last fact is the answer: it must itself say something the question asks,
                # or a chain that answered one part early would pass its credit to any fact after
                answers = config.drift + (1.0 - config.drift) * max(edge.aspects) if width else 1.0
                score = (weight * config.decay ** (depth - 1) * answers
                         * (coverage + config.relevance * edge.similarity))
                known = best.get(edge.fact_id)
                if known is None or score > known.score:
                    best[edge.fact_id] = Reach(score=score, via=path.facts, seed=path.seed)
                grown.append((weight * (coverage + config.relevance * edge.similarity), _Path(
                    node=other, seed=path.seed, weight=weight, covered=covered, facts=path.facts + (edge.fact_id,),
                    nodes=path.nodes | {other},
                )))
        grown.sort(key=lambda item: item[0], reverse=True)
        frontier = [path for _, path in grown[: config.beam]]
        if not frontier:
            break
    return best


def hub_damping(degree: int, hub_degree: int) -> float:
    """1 up to `hub_degree` facts, then falling with the square root of the excess."""
    return 1.0 if degree <= hub_degree else math.sqrt(hub_degree / degree)


def aspect_match(lexical: bool, cosine: float, low: float = 0.12, high: float = 0.4) -> float:
    """How well a fact answers one aspect word: 1 when it says the word (stemmed), else its
    sentence embedding's cosine to the word's, mapped from [low, high] onto [0, 1] (MiniLM puts
    a word 0.25-0.4 from a sentence that means it and under 0.15 from one that does not)."""
    if lexical:
        return 1.0
    return min(max((cosine - low) / (high - low), 0.0), 1.0)
