"""Associative recall over a fetched subgraph: which facts answer a question that needs a
chain of facts ("where does Lena's brother work?"). Pure: no I/O, unit-tested without Neo4j.

Activation spreads from seed entities (the ones the query names, plus the ends of the best
fact and turn hits) along facts, up to `max_hops` facts away. A path carries which parts of
the question it has answered so far: the query's *aspects* are its content words other than
the seeds' names ("brother", "work"), and each fact matches each aspect in [0, 1] (its
relation, sentence or entity types say the word, or its sentence embedding is near the
word's). Each fact on a path answers the aspects still open that it matches best (`claim`);
a fact that answers none only carries the chain along and damps it (`drift`). A path scores

    seed weight x hub damping x drift^(facts answering nothing) x decay^(facts - 1)
      x (coverage + relevance x similarity of the last fact to the query)

where coverage is the mean, over aspects, of the match of the fact that answered it, and a
fact scores the best path that ends with it. So "Lena -brother-> Jonas -works_at-> Bosch"
answers {brother, work} and beats Lena's own job, which answers {work} only; for "where does
Lena work?" the longer path answers nothing more and loses. Personalized PageRank, the usual
choice, ranks a seed's direct neighbours first whatever the question asks, which is the
answer to a 1-hop question only. Hub damping keeps a node with very many facts (the
speaker's own node) from passing its activation everywhere.
"""

from __future__ import annotations

import heapq
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
    relation: str = ""


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
    decay: float = 0.88  # per extra fact on a path: a longer chain must answer more to win
    relevance: float = 0.4  # weight of the last fact's own similarity to the query
    drift: float = 0.3  # share of a path's weight left after a fact that answers no open aspect
    carry: float = 0.3  # the same, for the facts after it on the chain
    claim: float = 0.25  # least aspect match with which a fact answers that aspect
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
    arrival: tuple[str, bool] = ("", False)  # the last fact's relation, and whether `node` was its source


class Walk:
    """The walk one fact further at a time, for a caller that fetches the graph as it goes:
    `add` the facts around the nodes it fetched, `step` once per hop, and ask `wanted` which
    nodes to fetch next (those the best open paths end at, hubs last), so the fetched graph
    follows the question instead of a fixed fan-out."""

    def __init__(self, seeds: dict[str, float], width: int, config: SpreadConfig = SpreadConfig()):
        self.config = config
        self.width = width  # aspects per edge
        self.depth = 0
        self.best: dict[str, Reach] = {}
        self.degree: dict[str, int] = {}
        self._around: dict[str, list[Edge]] = defaultdict(list)
        self._known: set[str] = set()
        self._frontier: list[tuple[float, _Path]] = [
            (
                weight,
                _Path(node=node, seed=node, weight=weight, covered=(0.0,) * width, facts=(), nodes=frozenset([node])),
            )
            for node, weight in sorted(seeds.items(), key=lambda kv: kv[1], reverse=True)
            if weight > 0
        ]

    def add(self, edges: list[Edge], degree: dict[str, int]) -> None:
        """Facts around fetched nodes (each fact once, whichever end asked for it)."""
        self.degree.update(degree)
        for edge in edges:
            if edge.fact_id in self._known:
                continue
            self._known.add(edge.fact_id)
            self._around[edge.source_id].append(edge)
            if edge.target_id != edge.source_id:
                self._around[edge.target_id].append(edge)

    def wanted(self, limit: int | None, fetched: set[str]) -> list[str]:
        """The nodes to fetch before the next step: where the open paths end, not yet fetched,
        best first by the path's value, hub-damped; at most `limit` (None: all)."""
        best: dict[str, float] = {}
        for value, path in self._frontier:
            if path.node in fetched:
                continue
            damping = hub_damping(self.degree.get(path.node, 1), self.config.hub_degree) if path.facts else 1.0
            best[path.node] = max(value * damping, best.get(path.node, 0.0))
        return sorted(best, key=lambda node: best[node], reverse=True)[:limit]

    def prune(self, floor: float) -> None:
        """Drop the open paths that cannot reach `floor`: no fact they lead to could score it
        (branch and bound; `floor` is what a fact must beat to change the results)."""
        top = (1.0 + self.config.relevance) * self.config.decay**self.depth
        self._frontier = [(value, path) for value, path in self._frontier if path.weight * top >= floor]

    @property
    def open(self) -> bool:
        return bool(self._frontier)

    def step(self) -> None:
        """Every open path one fact further, over the facts added so far. A path grown on the
        last hop only scores its fact: no path goes on from it, so none is built."""
        self.depth += 1
        config, width, depth = self.config, self.width, self.depth
        last = depth >= config.max_hops
        decay = config.decay ** (depth - 1)
        # (value, path, edge, node reached, coverage after, weight carried on): a path is built
        # only for the `beam` best, most of thousands of candidates are dropped
        grown: list[tuple[float, _Path, Edge, str, tuple[float, ...], float]] = []
        for _, path in self._frontier:
            # the seed's own fan-out is not damped (the query is about it); inner nodes are
            damping = 1.0 if depth == 1 else hub_damping(self.degree.get(path.node, 1), config.hub_degree)
            weight = path.weight * damping
            for edge in self._around.get(path.node, ()):
                if edge.fact_id in path.facts:
                    continue
                other = edge.target_id if edge.source_id == path.node else edge.source_id
                if other in path.nodes and other != path.node:
                    continue  # no cycles: a chain that comes back adds nothing
                leaves_source = edge.source_id == path.node
                if lateral(path.arrival, edge.relation, leaves_source):
                    covered, claimed = path.covered, False
                else:
                    covered, claimed = claim(path.covered, edge.aspects, config.claim)
                # a fact that answers no part of the question left open only carries the chain
                # along (Nora -lives_in-> Oslo <-based_in- Lea answers "based" twice): damped
                weight_after = weight if claimed or not width else weight * config.drift
                coverage = sum(covered) / width if width else 0.0
                value = weight_after * (coverage + config.relevance * edge.similarity)
                score = value * decay
                known = self.best.get(edge.fact_id)
                if known is None or score > known.score:
                    self.best[edge.fact_id] = Reach(score=score, via=path.facts, seed=path.seed)
                if not last:
                    # a chain goes on from here only if this fact answered something: an inner
                    # fact that answers nothing (Nora -lives_in-> Oslo, then Oslo's other
                    # residents) is how a walk wanders off to other people
                    carried = weight if claimed or not width else weight * config.carry
                    grown.append((value, path, edge, other, covered, carried))
        kept = heapq.nlargest(config.beam, grown, key=lambda item: item[0])
        self._frontier = [
            (
                value,
                _Path(
                    node=other,
                    seed=path.seed,
                    weight=carried,
                    covered=covered,
                    facts=path.facts + (edge.fact_id,),
                    nodes=path.nodes | {other},
                    arrival=(edge.relation, edge.source_id != path.node),
                ),
            )
            for value, path, edge, other, covered, carried in kept
        ]


def spread(
    seeds: dict[str, float],
    edges: list[Edge],
    degree: dict[str, int],
    config: SpreadConfig = SpreadConfig(),
) -> dict[str, Reach]:
    """For each fact reachable from the seeds within `config.max_hops`, the best path that
    ends with it, over a graph known in full."""
    walk = Walk(seeds, len(edges[0].aspects) if edges else 0, config)
    walk.add(edges, degree)
    for _ in range(config.max_hops):
        walk.step()
    return walk.best


def lateral(arrival: tuple[str, bool], relation: str, leaves_source: bool) -> bool:
    """Whether a step only moves sideways: the next fact has the last one's relation, with the
    node between them on the same side of both (Noah -enjoys-> chess <-enjoys- Renate says
    that Renate enjoys chess too, nothing more about Noah), so it answers no part of the
    question; only a named relation counts."""
    last, arrived_at_source = arrival
    return bool(relation) and relation == last and arrived_at_source == leaves_source


def claim(covered: tuple[float, ...], matches: tuple[float, ...], least: float) -> tuple[tuple[float, ...], bool]:
    """The aspects a new fact answers on a path: those still open where it matches at least
    `least` and at least half its best open match ("pet" and "own" both, for an `owns` fact).
    An aspect already answered by an earlier fact stays with it, so each fact of a chain must
    answer a part of its own. Returns the coverage after, and whether the fact answered any."""
    if not matches or max(matches) < least:  # most facts answer nothing: the common case, early
        return covered, False
    open_matches = [m if c == 0.0 else 0.0 for c, m in zip(covered, matches)]
    best = max(open_matches, default=0.0)
    if best < least:
        return covered, False
    return tuple(m if m >= best / 2 else c for c, m in zip(covered, open_matches)), True


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
