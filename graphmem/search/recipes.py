"""The search modes as recipes (data): the signals a mode runs at once and how it fuses them,
and the registry of signals (`SIGNALS`): how each is computed by its statement, how it is read
from the scope cache, and when it applies. `search.retrieve.Retriever.search` reads them.

* triplet: the scope's facts nearest to the query embedding.
* keyword: facts holding the query's words, stemmed (a rare word weighs more than a common one).
* entity: the entities the query names (or, if it names none, the nearest entity names),
  then the facts around them, hop by hop; a fact's score mixes its similarity to the query
  with how surely the query is about the seed it was reached from and how far it is.
* episode: the stored turns, by embedding and stemmed keywords (`results.episodes`).
* named: the entities the query names: associative recall's seeds.

Modes: associative (the default) runs triplet, keyword, episode and named at once, then walks
the graph from the seeds (`Retriever._associative`, `spread.Walk`); hybrid fuses triplet,
keyword and entity by reciprocal rank, each hit keeping the rank and score every list gave it;
entity, triplet and keyword return their one list; episode returns the turns only.
associative and hybrid also return the best turns beside the facts (`episodes=`).

Adding a signal touches 3 files: (a) its statement, cypher/search_<name>.cypher; (b) its method
in graphmem/store/queries.py; (c) its `SignalSpec` in `SIGNALS` below, and its name in the
recipes that run it. A signal the scope cache also ranks (`cached=`) adds its ranker in
graphmem/cache/ and its fields in `ListRequest` / `CachedLists`; with `cached=None` it is
always scanned.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args

from .._models import ExtractionInput, Message, Usage
from .._terms import query_words, word_terms
from ..write.extract import extract_entities
from .fusion import fuse_episodes
from .results import parse_fact

if TYPE_CHECKING:
    from .._models import Fact
    from ..cache.scope_cache import CachedLists
    from ..llm.base import LLM
    from ..store.queries import ExpandRow, Filters, IndexWidth, Queries, Seeding, SeedRow
    from .results import EpisodeHit, Ranked

__all__ = [
    "DEFAULT_EPISODES",
    "DEFAULT_MODE",
    "MAX_CHAIN",
    "MODES",
    "RECIPES",
    "SIGNALS",
    "Ask",
    "Context",
    "Mode",
    "Recipe",
    "SignalSpec",
]

Mode = Literal["associative", "hybrid", "entity", "triplet", "keyword", "episode"]
MODES: tuple[str, ...] = get_args(Mode)
DEFAULT_MODE: Mode = "associative"
DEFAULT_EPISODES = 5  # turns returned beside the facts: enough context, ~150 tokens
MAX_CHAIN = 3  # facts on an associative chain: one cypher/search_graph.cypher round trip each
MIN_TURNS = 5  # the episode list ranks at least this many turns, whatever the turns wanted

#: how a mode ranks its signals: the associative walk blended with the lists ("walk"),
#: reciprocal-rank fusion ("rrf"), its one list as it is ("single"), or turns only ("turns")
Fusion = Literal["walk", "rrf", "single", "turns"]


@dataclass(frozen=True)
class Recipe:
    signals: tuple[str, ...]  # run at once; their order is fusion's tie order
    fusion: Fusion
    turns: bool = False  # returns turns beside the facts (`episodes=`; "turns" fusion: `limit`)
    embeds: bool = True  # embeds the query (unless the caller gives its embedding)
    embeds_words: bool = False  # ... in the same embedder call as the query's words (the walk's aspects)


RECIPES: dict[str, Recipe] = {
    "associative": Recipe(("triplet", "keyword", "episode", "named"), "walk", turns=True, embeds_words=True),
    "hybrid": Recipe(("triplet", "keyword", "entity", "episode"), "rrf", turns=True),
    "entity": Recipe(("entity",), "single"),
    "triplet": Recipe(("triplet",), "single"),
    "keyword": Recipe(("keyword",), "single", embeds=False),
    "episode": Recipe(("episode",), "turns", turns=True),
}


@dataclass(frozen=True)
class Ask:
    """One search's inputs, as the signals read them."""

    query: str
    embedding: list[float] | None
    words: list[str]
    stems: list[str]
    filters: Filters
    depth: int  # the length of each fact list
    hops: int | None
    fanout: int
    turns: int  # the turns wanted (0: no episode list)
    use_llm_entities: bool = False

    @property
    def turn_depth(self) -> int:
        return max(self.turns, MIN_TURNS)


class Context(Protocol):
    """What a signal's scan reads from the retriever (`Retriever` is one)."""

    queries: Queries
    llm: LLM | None
    seeds: int

    def _width(self, want: int) -> IndexWidth: ...

    def _seeding(self, words: list[str]) -> Seeding: ...

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
    ) -> Ranked: ...


Parse = Callable[[dict[str, Any]], "Fact"]
Scan = Callable[[Context, Ask, Usage], Any]
Read = Callable[[Context, Ask, "CachedLists", Parse, Usage], Any]


def _always(ask: Ask) -> bool:
    return True


@dataclass(frozen=True)
class SignalSpec:
    name: str
    yields: Literal["facts", "turns", "seeds"]  # a fact list (fused), the turns, the walk's seeds
    scan: Scan  # its statement(s)
    cached: Read | None = None  # its ranking by the scope cache; None: always scanned
    request: Callable[[Context, Ask], dict[str, Any]] = lambda ctx, ask: {}  # its ListRequest fields
    applies: Callable[[Ask], bool] = _always  # runs at all
    cacheable: Callable[[Ask], bool] = _always  # may rank from the cache


def _scan_triplet(ctx: Context, ask: Ask, usage: Usage) -> Ranked:
    rows = ctx.queries.search_triplets(ask.filters, ctx._width(ask.depth * 3), ask.embedding, ask.depth, usage)
    return [(parse_fact(r["fact"]), float(r["score"]), None) for r in rows]


def _scan_keyword(ctx: Context, ask: Ask, usage: Usage) -> Ranked:
    rows = ctx.queries.search_keyword(ask.filters, ctx._width(ask.depth * 3), ask.words, ask.depth, usage)
    return [(parse_fact(r["fact"]), float(r["score"]), None) for r in rows]


def _scan_episode(ctx: Context, ask: Ask, usage: Usage) -> list[EpisodeHit]:
    count = ask.turn_depth
    rows = ctx.queries.search_episodes(
        ask.filters, ctx._width(count * 3), ask.embedding, ask.words, ask.stems, count, usage
    )
    return fuse_episodes(rows)[:count]


def _scan_named(ctx: Context, ask: Ask, usage: Usage) -> list[SeedRow]:
    return ctx.queries.search_seed_entities(
        ask.filters, ctx._width(ctx.seeds * 5), ctx._seeding(ask.words), ask.embedding, usage
    )


def _scan_entity(ctx: Context, ask: Ask, usage: Usage) -> Ranked:
    seed_words = ask.words
    if ask.use_llm_entities and ctx.llm is not None:
        named = extract_entities(ctx.llm, ExtractionInput(messages=[Message(content=ask.query)]), usage)
        seed_words = query_words(" ".join(e.name for e in named)) or ask.words
    rows = ctx.queries.search_entities(
        ask.filters, ctx._width(ctx.seeds * 5), ctx._seeding(seed_words), ask.embedding, ask.fanout, usage
    )
    return _expand(ctx, ask, rows, usage)


def _expand(ctx: Context, ask: Ask, rows: list[ExpandRow], usage: Usage, parse: Parse | None = None) -> Ranked:
    return ctx._expanded(
        rows,
        ask.filters,
        embedding=ask.embedding,
        hops=ask.hops or 1,
        fanout=ask.fanout,
        limit=ask.depth,
        usage=usage,
        parse=parse,
    )


SIGNALS: dict[str, SignalSpec] = {
    spec.name: spec
    for spec in (
        SignalSpec(
            "triplet",
            "facts",
            _scan_triplet,
            cached=lambda ctx, ask, got, parse, usage: [(parse(data), score, None) for data, score in got.facts],
            request=lambda ctx, ask: {"facts": ask.depth},
        ),
        SignalSpec(
            "keyword",
            "facts",
            _scan_keyword,
            cached=lambda ctx, ask, got, parse, usage: [(parse(data), score, None) for data, score in got.keyword],
            request=lambda ctx, ask: {"terms": word_terms(ask.words), "keyword": ask.depth},
            applies=lambda ask: bool(ask.words),
        ),
        SignalSpec(
            "episode",
            "turns",
            _scan_episode,
            cached=lambda ctx, ask, got, parse, usage: fuse_episodes(got.episodes)[: ask.turn_depth],
            request=lambda ctx, ask: {"stems": ask.stems, "episodes": ask.turn_depth},
            applies=lambda ask: ask.turns > 0,
        ),
        SignalSpec(
            "named",
            "seeds",
            _scan_named,
            cached=lambda ctx, ask, got, parse, usage: got.seeds,
            request=lambda ctx, ask: {"seeding": ctx._seeding(ask.words)},
        ),
        SignalSpec(
            "entity",
            "facts",
            _scan_entity,
            cached=lambda ctx, ask, got, parse, usage: _expand(ctx, ask, got.expanded, usage, parse),
            request=lambda ctx, ask: {"seeding": ctx._seeding(ask.words), "fanout": ask.fanout},
            cacheable=lambda ask: not ask.use_llm_entities,  # an LLM names the seeds
        ),
    )
}
