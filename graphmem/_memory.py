"""GraphMemory and AsyncGraphMemory: the public API, a facade over the writer and the retriever

extraction -> node matching -> conflict detection -> resolution -> one write transaction
(graphmem/write/), and the search modes (graphmem/search/); the scope cache is owned here.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable, Coroutine, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from ._errors import InputError
from ._lanes import Lane, Lanes
from ._models import (
    AddResult,
    Episode,
    Fact,
    MemoryInfo,
    MemoryStats,
    Message,
    Scope,
    Triplet,
    Usage,
    check_text,
    normalize_label,
    normalize_name,
    normalize_relation,
)
from ._settings import Settings, load_settings
from ._tracing import scope_attributes, span
from ._version import __version__
from .cache.scope_cache import ScopeCache
from .embed import Embedder, make_embedder
from .embed._phrases import PhraseVectors
from .llm import LLM, make_llm
from .ontology.files import chosen_ontology
from .ontology.model import Ontology
from .search.recipes import DEFAULT_EPISODES, DEFAULT_MODE, Mode
from .search.results import SearchHit, SearchResults, episode_from_record
from .search.retrieve import Retriever
from .store.queries import Queries
from .store.schema import ensure_schema
from .store.transport import Store
from .write import batch
from .write.batch import AddWindow, WindowOutcome
from .write.inputs import MessagesInput
from .write.writer import PreparedAdd, Writer

if TYPE_CHECKING:
    from opentelemetry.trace import Span

_P = ParamSpec("_P")
_T = TypeVar("_T")


class GraphMemory:
    """Long-term graph memory. Every method is scoped by user_id / agent_id / run_id.

    `ontology`: the entity types and relations it holds (an `Ontology`, a TOML or YAML file,
    or a built-in name such as "personal"; default GRAPHMEM_ONTOLOGY, else none)."""

    def __init__(
        self,
        store: Store,
        *,
        llm: LLM,
        embedder: Embedder,
        settings: Settings | None = None,
        single_pass: bool | None = None,
        apply_schema: bool = True,
        ontology: Ontology | str | Path | None = None,
    ):
        self.settings = settings or load_settings()
        self.ontology = chosen_ontology(ontology if ontology is not None else self.settings.ontology)
        self.store = store
        self.queries = Queries(store)
        self.llm = llm
        self.embedder = embedder
        self.phrases = PhraseVectors(embedder)  # relation names and question words, one cache
        mb = self.settings.search_cache_mb
        # one owner: the writer folds its commits in and ranks an add's neighbours from it,
        # the retriever ranks the search lists from it
        self.cache = ScopeCache(self.queries, embedder.dim, max_bytes=mb * 2**20) if mb else None
        self.writer = Writer(
            store,
            self.queries,
            llm=llm,
            embedder=embedder,
            ontology=self.ontology,
            phrases=self.phrases,
            cache=self.cache,
            single_pass=self.settings.extraction == "single_pass" if single_pass is None else single_pass,
            match_threshold=self.settings.match_threshold,
            conflict_threshold=self.settings.conflict_threshold,
        )
        self.retriever = Retriever(self.queries, embedder, llm, phrases=self.phrases, cache=self.cache)
        if apply_schema:
            ensure_schema(self.queries, dim=embedder.dim, model=embedder.model_name)

    @classmethod
    def from_env(cls, **overrides: Any) -> GraphMemory:
        """Settings from the environment / config file; the managed Neo4j is used when NEO4J_URI is unset."""
        given = overrides.pop("ontology", None)
        settings = load_settings(**overrides)
        # a bad ontology file fails before any connection is made
        ontology = chosen_ontology(given if given is not None else settings.ontology)
        return cls(
            Store.connect(settings),
            llm=make_llm(settings),
            embedder=make_embedder(settings),
            settings=settings,
            ontology=ontology,
        )

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()  # its loads use the driver: done before it closes
        self.store.close()

    def __enter__(self) -> GraphMemory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def info(self) -> MemoryInfo:
        """graphmem's version, the Neo4j reached (raises Neo4jUnavailable when it is not), the
        extractor and the embedder: what a server reports about itself."""
        return MemoryInfo(
            graphmem_version=__version__,
            neo4j=self.store.server_info(),
            extractor=self.llm.name,
            extractor_is_fallback=self.llm.is_fallback,
            embedder=self.embedder.model_name,
            embedding_dim=self.embedder.dim,
        )

    # -- write ------------------------------------------------------------------------
    def add(
        self,
        messages: MessagesInput,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        timestamp: datetime | str | None = None,
        metadata: dict[str, Any] | None = None,
        context: Sequence[Message] = (),
        _before_commit: Callable[[], None] | None = None,
    ) -> AddResult:
        """Extract facts from conversation turns and merge them into the scope's graph.

        `context` holds earlier turns the extractor may read but not extract from.
        Messages carrying an `id` already stored in the scope are skipped, so re-running
        an ingest adds nothing twice.
        """
        scope = Scope(user_id=user_id, agent_id=agent_id, run_id=run_id)
        with span("graphmem.add", scope_attributes(scope)) as current:
            prepared = self.writer.prepare(
                messages, scope=scope, context=context, timestamp=timestamp, metadata=metadata
            )
            return _traced(current, self.writer.commit(prepared, before_commit=_before_commit))

    def add_many(
        self,
        windows: Iterable[AddWindow],
        *,
        concurrency: int | None = None,
        on_extracted: Callable[[int], None] | None = None,
        on_committed: Callable[[int, WindowOutcome], None] | None = None,
    ) -> list[WindowOutcome]:
        """Many adds, pipelined: up to `concurrency` windows are extracted and embedded at once
        (default GRAPHMEM_MAX_CONCURRENCY), while each scope's windows are matched, resolved and
        written in the order given, one transaction each; scopes commit in parallel. The graph
        ends as a serial run of the same windows leaves it. One outcome per window, in order:
        its AddResult, or the LLMError that left it out (a re-run retries it). Any other error
        stops the run after the windows in flight; what was stored is, per scope, a prefix.
        The callbacks get the window's index and run in worker threads."""
        return batch.add_many(
            self.writer,
            windows,
            concurrency=self.settings.max_concurrency if concurrency is None else concurrency,
            on_extracted=on_extracted,
            on_committed=on_committed,
        )

    def add_triplets(
        self,
        triplets: Sequence[dict[str, Any] | Triplet],
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        timestamp: datetime | str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> AddResult:
        """Structured import without extraction; still matched, conflict-checked and resolved."""
        scope = Scope(user_id=user_id, agent_id=agent_id, run_id=run_id)
        with span("graphmem.add", scope_attributes(scope)) as current:
            prepared = self.writer.prepare_triplets(triplets, scope=scope, timestamp=timestamp, metadata=metadata)
            return _traced(current, self.writer.commit(prepared))

    # -- retrieval --------------------------------------------------------------------
    def search(
        self,
        query: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        mode: Mode = DEFAULT_MODE,
        limit: int = 10,
        episodes: int = DEFAULT_EPISODES,
        hops: int | None = None,
        as_of: datetime | None = None,
        include_invalidated: bool = False,
        entity_types: list[str] | None = None,
        relations: list[str] | None = None,
        use_llm_entities: bool = False,
        usage: Usage | None = None,
    ) -> SearchResults:
        """Facts of the scope relevant to `query`, best first, and in `results.episodes` the
        `episodes` best stored turns (see Retriever for the modes). `hops` bounds the chains
        (associative, default 3) or the expansion (entity, default 1)."""
        scope = Scope(user_id=user_id, agent_id=agent_id, run_id=run_id)
        if isinstance(query, str):
            check_text(query, "search query")
        if entity_types and self.ontology is not None:  # a type stands for its subtypes too
            entity_types = self.ontology.with_subtypes([normalize_label(t) for t in entity_types])
        if relations and self.ontology is not None:  # an inverse name stands for its relation
            inverses = self.ontology.inverses
            relations = [inverses[r].name if r in inverses else r for r in map(normalize_relation, relations)]
        return self.retriever.search(
            query,
            scope,
            mode=mode,
            limit=limit,
            episodes=episodes,
            hops=hops,
            as_of=as_of,
            include_invalidated=include_invalidated,
            entity_types=entity_types,
            relations=relations,
            use_llm_entities=use_llm_entities,
            usage=usage,
        )

    def sources(
        self,
        fact: Fact | SearchHit,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> list[Episode]:
        """The stored turns a fact was said in, oldest first; with a scope, only that scope's."""
        item = fact.fact if isinstance(fact, SearchHit) else fact
        if any((user_id, agent_id, run_id)):
            scope = Scope(user_id=user_id, agent_id=agent_id, run_id=run_id)
        else:
            scope = Scope(user_id=item.user_id, agent_id=item.agent_id, run_id=item.run_id)
        return [episode_from_record(r) for r in self.queries.get_episodes(scope, item.message_ids)]

    def episodes(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        id_prefix: str | None = None,
        limit: int = 100,
    ) -> list[Episode]:
        """The scope's stored turns, newest first, with the metadata of the add that stored them;
        with `id_prefix`, only the turns whose id (the `id` you gave the message, kept as
        Episode.external_id) starts with it."""
        scope = Scope(user_id=user_id, agent_id=agent_id, run_id=run_id)
        if id_prefix is not None:
            check_text(id_prefix, "episode id prefix")
        if not isinstance(limit, int) or limit < 1:
            raise InputError(f"episodes(limit=...) must be a positive whole number, got {limit!r}")
        rows = self.queries.list_episodes(scope, id_prefix=id_prefix, limit=limit)
        return [episode_from_record(r) for r in rows]

    def delete_episodes(
        self,
        episode_ids: Sequence[str],
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> int:
        """Hard-delete stored turns of the scope by Episode.id; returns how many went. The facts
        said in them stay (delete those by fact id, or let later turns invalidate them)."""
        scope = Scope(user_id=user_id, agent_id=agent_id, run_id=run_id)
        if isinstance(episode_ids, str):
            raise InputError("delete_episodes takes a list of episode ids, not one string: wrap it in [...]")
        ids = [check_text(i, "episode id") for i in episode_ids]
        return self.queries.delete_episodes(scope, ids) if ids else 0

    # -- read & manage ----------------------------------------------------------------
    def get_all(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        include_invalidated: bool = False,
        limit: int = 10_000,
    ) -> list[Fact]:
        scope = Scope(user_id=user_id, agent_id=agent_id, run_id=run_id)
        return self.queries.get_all(scope, include_invalidated=include_invalidated, limit=limit)

    def get(
        self, fact_id: str, *, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> Fact | None:
        """One fact by id; with a scope, None unless the fact belongs to that scope."""
        facts = self.queries.get_fact(check_text(fact_id, "fact id"))
        if not facts:
            return None
        fact = facts[0]
        wanted = {"user_id": user_id, "agent_id": agent_id, "run_id": run_id}
        if any(value is not None and getattr(fact, key) != value for key, value in wanted.items()):
            return None
        return fact

    def delete(
        self, fact_id: str, *, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> bool:
        """Hard-delete one fact (use invalidation through add() to keep history); with a scope,
        only a fact of that scope (False otherwise, as for an unknown id)."""
        if self.get(fact_id, user_id=user_id, agent_id=agent_id, run_id=run_id) is None:
            return False
        self.queries.delete_fact(fact_id)
        return True

    def stats(
        self, *, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> MemoryStats:
        """Counts of the scope's entities, valid and invalidated facts and turns; with no scope,
        of the whole database."""
        scoped = any(value is not None for value in (user_id, agent_id, run_id))
        scope = Scope(user_id=user_id, agent_id=agent_id, run_id=run_id) if scoped else None  # checks the ids
        return MemoryStats.model_validate(self.queries.scope_stats(scope))

    def delete_all(self, *, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None) -> int:
        """Delete every entity, fact and message of the scope; returns the number of nodes removed."""
        scope = Scope(user_id=user_id, agent_id=agent_id, run_id=run_id)
        return self.queries.delete_scope(scope)

    def history(
        self,
        id_or_name: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> list[Fact]:
        """Every version of a fact (by fact id) or every fact of an entity (by id, or by name in a scope).

        With a scope, only that scope's facts are returned, whatever id is given."""
        ids = [check_text(id_or_name, "history id or name")]
        wanted: dict[str, str | None] = {}
        if any((user_id, agent_id, run_id)):
            scope = Scope(user_id=user_id, agent_id=agent_id, run_id=run_id)
            wanted = {
                k: v for k, v in (("user_id", user_id), ("agent_id", agent_id), ("run_id", run_id)) if v is not None
            }
            ids = self.queries.find_entity(scope, normalize_name(id_or_name)) or ids
        facts: dict[str, Fact] = {}
        for key in ids:
            for fact in self.queries.history(key):
                # an id of another scope's fact or entity must not leak it into this one
                if all(getattr(fact, k) == v for k, v in wanted.items()):
                    facts.setdefault(fact.id, fact)
        return sorted(facts.values(), key=lambda f: (f.valid_from, f.created_at))

    def reset(self, *, confirm: bool = False) -> int:
        """Delete ALL graphmem data in the database. Guarded: pass confirm=True."""
        if not confirm:
            raise InputError("reset() deletes every memory of every user: call reset(confirm=True) if you mean it")
        return self.queries.reset()


def _traced(current: Span, result: AddResult) -> AddResult:
    """`result` counted on its add's span."""
    current.set_attribute("graphmem.facts_added", len(result.added))
    current.set_attribute("graphmem.facts_updated", len(result.updated))
    current.set_attribute("graphmem.facts_invalidated", len(result.invalidated))
    current.set_attribute("graphmem.llm_calls", result.usage.llm_calls)
    return result


def _threaded(
    method: Callable[Concatenate[GraphMemory, _P], _T], lane: Lane | None
) -> Callable[Concatenate[AsyncGraphMemory, _P], Coroutine[Any, Any, _T]]:
    """GraphMemory's `method` as a coroutine run on a thread of `lane` (None: a thread of its
    own, no slot counted), with its signature and docs (test hooks, parameters named with a
    leading underscore, left out)."""

    async def call(self: AsyncGraphMemory, /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        bound = getattr(self.sync, method.__name__)
        if lane is None:
            return await asyncio.to_thread(bound, *args, **kwargs)
        return await self.lanes.run(lane, bound, *args, **kwargs)

    functools.update_wrapper(call, method, assigned=("__module__", "__name__", "__qualname__", "__doc__"))
    signature = inspect.signature(method)
    call.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[p for p in signature.parameters.values() if not p.name.startswith("_")]
    )
    call.__annotations__ = {k: v for k, v in method.__annotations__.items() if not k.startswith("_")}
    call.__qualname__ = f"AsyncGraphMemory.{method.__name__}"
    return call


class AsyncGraphMemory:
    """Async facade, in lanes (graphmem/_lanes.py): an add's LLM and embedding half runs on the
    prepare lane, its Neo4j half on the commit lane (one scope's adds in arrival order), reads
    on their own, so a search never waits behind an add that waits on a model. Past the pending
    bounds an add is refused with BusyError. Its other operations are GraphMemory's, derived
    from it one line each (same signatures)."""

    def __init__(self, memory: GraphMemory, *, max_concurrency: int | None = None):
        self.sync = memory
        self.lanes = Lanes.from_settings(memory.settings, commit_slots=max_concurrency)

    @classmethod
    def from_env(cls, **overrides: Any) -> AsyncGraphMemory:
        return cls(GraphMemory.from_env(**overrides))

    # The same signatures as GraphMemory's (tests/unit/test_api.py compares them).
    async def add(
        self,
        messages: MessagesInput,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        timestamp: datetime | str | None = None,
        metadata: dict[str, Any] | None = None,
        context: Sequence[Message] = (),
    ) -> AddResult:
        """GraphMemory.add, in two lanes; BusyError when too many adds wait already."""
        scope = Scope(user_id=user_id, agent_id=agent_id, run_id=run_id)
        writer = self.sync.writer
        return await self._add(
            scope, writer.prepare, messages, scope=scope, context=context, timestamp=timestamp, metadata=metadata
        )

    async def add_triplets(
        self,
        triplets: Sequence[dict[str, Any] | Triplet],
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        timestamp: datetime | str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> AddResult:
        """GraphMemory.add_triplets, in two lanes; BusyError when too many adds wait already."""
        scope = Scope(user_id=user_id, agent_id=agent_id, run_id=run_id)
        writer = self.sync.writer
        return await self._add(
            scope, writer.prepare_triplets, triplets, scope=scope, timestamp=timestamp, metadata=metadata
        )

    async def _add(
        self, scope: Scope, prepare: Callable[_P, PreparedAdd], /, *args: _P.args, **kwargs: _P.kwargs
    ) -> AddResult:
        admitted = self.lanes.admit(scope)  # BusyError here: nothing accepted, nothing to undo
        try:
            with span("graphmem.add", scope_attributes(scope)) as current:
                prepared = await self.lanes.run("prepare", prepare, *args, **kwargs)
                await admitted.turn()  # the scope's earlier adds commit first
                return _traced(current, await self.lanes.run("commit", self.sync.writer.commit, prepared))
        finally:
            admitted.finish()

    # many windows: their own pool of `concurrency` workers, in no lane
    add_many = _threaded(GraphMemory.add_many, None)
    search = _threaded(GraphMemory.search, "read")
    sources = _threaded(GraphMemory.sources, "read")
    episodes = _threaded(GraphMemory.episodes, "read")
    get_all = _threaded(GraphMemory.get_all, "read")
    get = _threaded(GraphMemory.get, "read")
    stats = _threaded(GraphMemory.stats, "read")
    history = _threaded(GraphMemory.history, "read")
    delete = _threaded(GraphMemory.delete, "commit")
    delete_all = _threaded(GraphMemory.delete_all, "commit")
    delete_episodes = _threaded(GraphMemory.delete_episodes, "commit")
    reset = _threaded(GraphMemory.reset, "commit")
    # a health check queues behind nothing
    info = _threaded(GraphMemory.info, None)

    async def close(self) -> None:
        await asyncio.to_thread(self.lanes.close)
        await asyncio.to_thread(self.sync.close)
