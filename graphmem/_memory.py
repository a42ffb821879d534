"""GraphMemory and AsyncGraphMemory: the public API over the pipeline

extraction -> node matching -> conflict detection -> resolution -> one write transaction
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from pydantic import TypeAdapter, ValidationError

from ._errors import ConcurrentWriteError, InputError, input_error
from ._models import (
    AddResult,
    ConflictSet,
    Entity,
    Episode,
    ExtractionInput,
    Fact,
    MemoryStats,
    Message,
    Rejection,
    ResolutionDecision,
    Scope,
    Triplet,
    Usage,
    as_utc,
    check_text,
    normalize_label,
    normalize_name,
    normalize_relation,
    utcnow,
)
from ._settings import Settings, load_settings
from .cache.scope_cache import ScopeCache
from .cache.writes import Written
from .embed import Embedder, make_embedder
from .embed._phrases import PhraseVectors
from .llm import LLM, make_llm
from .ontology.model import Ontology, chosen_ontology
from .search.retrieve import (
    DEFAULT_EPISODES,
    DEFAULT_MODE,
    Mode,
    Retriever,
    SearchHit,
    SearchResults,
    episode_from_record,
)
from .store.ids import message_node_id
from .store.queries import Queries, ScopeChanged
from .store.schema import ensure_schema
from .store.transport import Store, is_constraint_violation
from .write import batch as _batch
from .write import extract as _extract
from .write.batch import AddWindow, WindowOutcome
from .write.conflicts import ConflictDetector, relation_phrase
from .write.conform import conform
from .write.match import NodeMatcher
from .write.plan import AddPlan, StoredMessage, apply_plan
from .write.resolve import DecisionKey, UpdateResolver

_P = ParamSpec("_P")
_T = TypeVar("_T")

#: adds of one scope are serialised from node matching to the write (see GraphMemory._merge);
#: scopes share one of this many locks
_SCOPE_LOCK_STRIPES = 64
#: how often an add is matched again when other processes keep changing its scope first
_MAX_WRITE_ATTEMPTS = 10

MessagesInput = str | dict[str, Any] | Message | Sequence[dict[str, Any] | Message | str]


def parse_messages(messages: MessagesInput) -> list[Message]:
    """A string, one message dict or a list of OpenAI-style messages -> list[Message]."""
    if isinstance(messages, (str, dict, Message)):
        items = [messages]
    elif isinstance(messages, Iterable) and not isinstance(messages, (bytes, bytearray)):
        items = list(messages)
    else:
        raise InputError(f"add() got a {type(messages).__name__}: expected a str, a dict or a list of them")
    if not items:
        raise InputError("add() got no messages: pass a string, a message dict or a list of them")
    parsed = []
    for position, item in enumerate(items):
        try:
            if isinstance(item, Message):
                parsed.append(item)
            elif isinstance(item, str):
                parsed.append(Message(role="user", content=item))
            elif isinstance(item, dict):
                parsed.append(Message.model_validate(item))
            else:
                raise InputError(f"a {type(item).__name__} is not a message; expected a str or a dict")
        except InputError as exc:
            raise InputError(f"message {position}: {exc}") from None
        except ValidationError as exc:
            raise input_error(exc, f"message {position}", "message") from None
    return parsed


class _AskFirst(Exception):
    """A locked attempt needs the LLM's answer about these conflicts: let go of the scope, ask."""

    def __init__(self, conflicts: list[ConflictSet]):
        self.conflicts = conflicts


@dataclass
class PreparedAdd:
    """An add extracted and embedded, not yet matched or written (GraphMemory._prepare_add)."""

    scope: Scope
    usage: Usage
    started: float
    valid_from: datetime
    metadata: dict[str, Any] | None
    messages: list[StoredMessage] = field(default_factory=list)
    skipped: int = 0
    entities: list[Entity] = field(default_factory=list)
    triplets: list[Triplet] = field(default_factory=list)
    entity_vectors: list[list[float]] = field(default_factory=list)
    fact_vectors: list[list[float]] = field(default_factory=list)
    message_vectors: list[list[float]] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    entity_properties: dict[str, dict[str, Any]] = field(default_factory=dict)


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
        self.single_pass = self.settings.extraction == "single_pass" if single_pass is None else single_pass
        self.matcher = NodeMatcher(self.queries, threshold=self.settings.match_threshold)
        self.phrases = PhraseVectors(embedder)  # relation names and question words, one cache
        self.detector = ConflictDetector(
            self.queries, embedder, fact_threshold=self.settings.conflict_threshold, phrases=self.phrases
        )
        self.resolver = UpdateResolver(llm, self.ontology)
        mb = self.settings.search_cache_mb
        vectors = ScopeCache(self.queries, embedder.dim, max_bytes=mb * 2**20) if mb else None
        self.retriever = Retriever(self.queries, embedder, llm, phrases=self.phrases, cache=vectors)
        self._scope_locks = [threading.RLock() for _ in range(_SCOPE_LOCK_STRIPES)]
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
        if self.retriever.cache is not None:
            self.retriever.cache.close()  # its loads use the driver: done before it closes
        self.store.close()

    def __enter__(self) -> GraphMemory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
        prepared = self._prepare_add(messages, scope=scope, context=context, timestamp=timestamp, metadata=metadata)
        return self._commit_add(prepared, _before_commit=_before_commit)

    def _prepare_add(
        self,
        messages: MessagesInput,
        *,
        scope: Scope,
        context: Sequence[Message] = (),
        timestamp: datetime | str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> PreparedAdd:
        """The half of an add that does not read the graph: the turns already stored are left
        out, the rest extracted (the LLM) and embedded. Windows of one scope may be prepared
        at the same time; `_commit_add` must then take them in order."""
        parsed = parse_messages(messages)
        _check_metadata(metadata)
        usage = Usage()
        started = time.perf_counter()
        stored = [StoredMessage(id=message_node_id(scope, m), external_id=m.id, message=m) for m in parsed]
        keyed = [s.id for s in stored if s.external_id is not None]
        if keyed:
            known = self.queries.known_messages(keyed, usage=usage)
            stored = [s for s in stored if s.id not in known]
        prepared = PreparedAdd(
            scope=scope,
            usage=usage,
            started=started,
            messages=stored,
            skipped=len(parsed) - len(stored),
            valid_from=_valid_from(timestamp, [s.message for s in stored]),
            metadata=metadata,
        )
        if stored:
            with self._stage(usage, "extract"):
                source = ExtractionInput(
                    messages=[s.message for s in stored], context=list(context), ontology=self.ontology
                )
                extraction = _extract.extract(self.llm, source, usage, single_pass=self.single_pass)
                entities, triplets = self._conform(prepared, extraction.entities, extraction.triplets)
            self._embed(prepared, entities, triplets)
        return prepared

    def _conform(
        self, prepared: PreparedAdd, entities: list[Entity], triplets: list[Triplet]
    ) -> tuple[list[Entity], list[Triplet]]:
        """The triplets fitted to the ontology; the ones that cannot fit go to `rejected`."""
        if self.ontology is None:
            return entities, triplets
        fitted = conform(self.ontology, entities, triplets)
        prepared.rejected = fitted.rejected
        prepared.entity_properties = fitted.properties
        return fitted.entities, fitted.triplets

    def _commit_add(self, prepared: PreparedAdd, *, _before_commit: Callable[[], None] | None = None) -> AddResult:
        """The half of an add that reads and writes the graph, in one transaction."""
        if not prepared.messages:
            prepared.usage.seconds = time.perf_counter() - prepared.started
            return AddResult(skipped_messages=prepared.skipped, usage=prepared.usage)
        result = self._merge(prepared, before_commit=_before_commit)
        result.skipped_messages = prepared.skipped
        result.rejected = prepared.rejected
        result.usage.seconds = time.perf_counter() - prepared.started
        return result

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
        return _batch.add_many(
            self,
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
        _check_metadata(metadata)
        parsed = []
        for position, item in enumerate(triplets):
            try:
                parsed.append(item if isinstance(item, Triplet) else Triplet.model_validate(item))
            except ValidationError as exc:
                raise input_error(exc, f"triplet {position}", "triplet") from None
        cleaned = _extract.clean(ExtractionInput(messages=[]), [], parsed)
        prepared = PreparedAdd(
            scope=scope,
            usage=Usage(),
            started=time.perf_counter(),
            valid_from=_valid_from(timestamp, []),
            metadata=metadata,
        )
        self._embed(prepared, *self._conform(prepared, cleaned.entities, cleaned.triplets))
        result = self._merge(prepared)
        result.rejected = prepared.rejected
        result.usage.seconds = time.perf_counter() - prepared.started
        return result

    def _embed(self, prepared: PreparedAdd, entities: list[Entity], triplets: list[Triplet]) -> None:
        """One batched embedding call: entity names, fact sentences, the turns themselves
        (episodes) and the relation names the conflict detector has not seen yet."""
        ends = {normalize_name(t.source) for t in triplets} | {normalize_name(t.target) for t in triplets}
        prepared.entities = [e for e in entities if normalize_name(e.name) in ends]
        prepared.triplets = triplets
        if not triplets and not prepared.messages:
            return
        with self._stage(prepared.usage, "embed"):
            relations = self.phrases.missing([relation_phrase(t.relation) for t in triplets])
            vectors = self.embedder.embed(
                [e.name for e in prepared.entities]
                + [t.sentence for t in triplets]
                + [m.message.content for m in prepared.messages]
                + relations
            )
        facts_end = len(prepared.entities) + len(triplets)
        messages_end = facts_end + len(prepared.messages)
        prepared.entity_vectors = vectors[: len(prepared.entities)]
        prepared.fact_vectors = vectors[len(prepared.entities) : facts_end]
        prepared.message_vectors = vectors[facts_end:messages_end]
        self.phrases.put(relations, vectors[messages_end:])

    def _merge(self, prepared: PreparedAdd, *, before_commit: Callable[[], None] | None = None) -> AddResult:
        """Match, detect, resolve and write.

        Optimistic first: the reads run without locks, and the write commits only if the
        scope's write clock is still at the version the reads saw. When another process
        changed the scope in between, the add is matched again inside one transaction that
        holds the clock, so a busy scope cannot starve it. The LLM is never called while the
        clock is held: the resolver's answers are kept for the add, and a locked attempt
        whose candidates need a new answer lets go, asks, and starts again."""
        if not prepared.triplets and not prepared.messages:
            return AddResult(usage=prepared.usage)
        answers: dict[DecisionKey, ResolutionDecision] = {}
        locked = False
        # Under a per-scope lock, racing adds of one scope in this process never go stale (no
        # wasted reads or resolve calls); across processes the scope's write clock catches them.
        with self._scope_lock(prepared.scope):
            for _ in range(_MAX_WRITE_ATTEMPTS):
                try:
                    if not locked:
                        result, written = self._merge_once(prepared, self.queries, answers, before_commit, locked=False)
                    else:
                        result, written = self.store.unit_of_work(
                            lambda tx: self._merge_once(prepared, Queries(tx), answers, before_commit, locked=True)
                        )
                    if self.retriever.cache is not None:
                        self.retriever.cache.wrote(written)  # committed: searches here need not read it back
                    return result
                except ScopeChanged:
                    locked = True
                except _AskFirst as pending:
                    with self._stage(prepared.usage, "resolve"):
                        self.resolver.resolve(pending.conflicts, prepared.usage, answers)
                    continue
                except Exception as exc:
                    # a concurrent add stored the same entity or fact first: the re-match sees it
                    if not is_constraint_violation(exc):
                        raise
                prepared.usage.rematches += 1
        raise ConcurrentWriteError(
            f"the add to scope {prepared.scope.key} was refused {_MAX_WRITE_ATTEMPTS} times because other "
            "writers kept changing what it had read before it could write: retry it (nothing of it was "
            "stored), or send this scope's adds through fewer processes"
        )

    def _merge_once(
        self,
        prepared: PreparedAdd,
        queries: Queries,
        answers: dict[DecisionKey, ResolutionDecision],
        before_commit: Callable[[], None] | None,
        *,
        locked: bool,
    ) -> tuple[AddResult, Written]:
        """One attempt. `locked`: `queries` runs in a transaction that first takes the scope's
        clock, so nothing read can change before the write; raises _AskFirst rather than call
        the LLM."""
        scope, usage, entities, triplets = prepared.scope, prepared.usage, prepared.entities, prepared.triplets
        entity_vectors, fact_vectors = prepared.entity_vectors, prepared.fact_vectors
        claimed = queries.claim_scope(scope, utcnow(), usage=usage) if locked else None
        # the scope as this process's search cache holds it ranks the nearest nodes and facts;
        # the statements use that ranking only if the scope has not changed since (its clock)
        cache = self.retriever.cache
        held = cache.held(scope) if cache is not None else None
        with self._stage(usage, "match"):
            matched = self.matcher.match(scope, entities, entity_vectors, usage, queries=queries, held=held)
            matches = matched.nodes
        with self._stage(usage, "detect"):
            pair_ids = [
                (matches[normalize_name(t.source)].node_id, matches[normalize_name(t.target)].node_id) for t in triplets
            ]
            conflicts = self.detector.detect(scope, triplets, pair_ids, fact_vectors, usage, queries=queries, held=held)
        with self._stage(usage, "resolve"):
            if locked:
                decided, ask = self.resolver.decide(conflicts, answers)
                if ask:
                    raise _AskFirst(conflicts)
                decisions = [decided[c.index] for c in conflicts]
            else:
                decisions = self.resolver.resolve(conflicts, usage, answers)
        plan = AddPlan(
            scope=scope,
            now=utcnow(),
            valid_from=prepared.valid_from,
            messages=prepared.messages,
            matches=matches,
            entity_embeddings={normalize_name(e.name): v for e, v in zip(entities, entity_vectors)},
            conflicts=conflicts,
            fact_embeddings=fact_vectors,
            decisions=decisions,
            metadata=prepared.metadata,
            message_embeddings=prepared.message_vectors,
            entity_properties=prepared.entity_properties,
            scope_version=claimed if claimed is not None else matched.scope_version,
        )
        with self._stage(usage, "write"):
            result, written = apply_plan(queries, plan, usage, before_commit=before_commit)
        result.usage = usage
        return result, written

    def _scope_lock(self, scope: Scope) -> threading.RLock:
        digest = hashlib.sha256(scope.key.encode("utf-8", "surrogatepass")).digest()
        return self._scope_locks[int.from_bytes(digest[:4], "big") % len(self._scope_locks)]

    @contextmanager
    def _stage(self, usage: Usage, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            usage.stages[name] = usage.stages.get(name, 0.0) + time.perf_counter() - started

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


def _check_metadata(metadata: dict[str, Any] | None) -> None:
    """Metadata is stored on the messages as JSON text: it must be a JSON object of storable text."""
    if metadata is None:
        return
    if not isinstance(metadata, dict):
        raise InputError(f"metadata must be a dict, got {type(metadata).__name__}")
    try:
        check_text(json.dumps(metadata, ensure_ascii=False), "metadata")
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"metadata is not JSON-serialisable ({exc}): give str, number, bool, list or dict values"
        ) from None


_TIMESTAMP = TypeAdapter(datetime)


def _timestamp(value: datetime | str | None) -> datetime | None:
    """The `timestamp=` of an add: a datetime or an ISO 8601 string, as a message's own is."""
    if value is None or isinstance(value, datetime):
        return value
    try:
        return _TIMESTAMP.validate_python(value)
    except ValidationError as exc:
        raise input_error(exc, "timestamp") from None


def _valid_from(timestamp: datetime | str | None, messages: list[Message]) -> datetime:
    timestamp = _timestamp(timestamp)
    if timestamp is not None:
        return as_utc(timestamp)
    stamps = [as_utc(m.timestamp) for m in messages if m.timestamp is not None]
    return max(stamps) if stamps else utcnow()


class AsyncGraphMemory:
    """Async facade: each call runs the sync pipeline in a worker thread; adds run
    concurrently, at most `max_concurrency` at a time (the driver is thread-safe)."""

    def __init__(self, memory: GraphMemory, *, max_concurrency: int | None = None):
        self.sync = memory
        self._semaphore = asyncio.Semaphore(max_concurrency or memory.settings.max_concurrency)

    @classmethod
    def from_env(cls, **overrides: Any) -> AsyncGraphMemory:
        return cls(GraphMemory.from_env(**overrides))

    async def _call(self, fn: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        async with self._semaphore:
            return await asyncio.to_thread(fn, *args, **kwargs)

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
        return await self._call(
            self.sync.add,
            messages,
            user_id=user_id,
            agent_id=agent_id,
            run_id=run_id,
            timestamp=timestamp,
            metadata=metadata,
            context=context,
        )

    async def add_many(
        self,
        windows: Iterable[AddWindow],
        *,
        concurrency: int | None = None,
        on_extracted: Callable[[int], None] | None = None,
        on_committed: Callable[[int, WindowOutcome], None] | None = None,
    ) -> list[WindowOutcome]:
        # its own pool of `concurrency` workers: not counted against max_concurrency
        return await asyncio.to_thread(
            self.sync.add_many,
            windows,
            concurrency=concurrency,
            on_extracted=on_extracted,
            on_committed=on_committed,
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
        return await self._call(
            self.sync.add_triplets,
            triplets,
            user_id=user_id,
            agent_id=agent_id,
            run_id=run_id,
            timestamp=timestamp,
            metadata=metadata,
        )

    async def get_all(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        include_invalidated: bool = False,
        limit: int = 10000,
    ) -> list[Fact]:
        return await self._call(
            self.sync.get_all,
            user_id=user_id,
            agent_id=agent_id,
            run_id=run_id,
            include_invalidated=include_invalidated,
            limit=limit,
        )

    async def get(
        self, fact_id: str, *, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> Fact | None:
        return await self._call(self.sync.get, fact_id, user_id=user_id, agent_id=agent_id, run_id=run_id)

    async def delete(
        self, fact_id: str, *, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> bool:
        return await self._call(self.sync.delete, fact_id, user_id=user_id, agent_id=agent_id, run_id=run_id)

    async def stats(
        self, *, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> MemoryStats:
        return await self._call(self.sync.stats, user_id=user_id, agent_id=agent_id, run_id=run_id)

    async def delete_all(
        self, *, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> int:
        return await self._call(self.sync.delete_all, user_id=user_id, agent_id=agent_id, run_id=run_id)

    async def sources(
        self,
        fact: Fact | SearchHit,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> list[Episode]:
        return await self._call(self.sync.sources, fact, user_id=user_id, agent_id=agent_id, run_id=run_id)

    async def history(
        self,
        id_or_name: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> list[Fact]:
        return await self._call(self.sync.history, id_or_name, user_id=user_id, agent_id=agent_id, run_id=run_id)

    async def search(
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
        return await self._call(
            self.sync.search,
            query,
            user_id=user_id,
            agent_id=agent_id,
            run_id=run_id,
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

    async def reset(self, *, confirm: bool = False) -> int:
        return await self._call(self.sync.reset, confirm=confirm)

    async def close(self) -> None:
        await asyncio.to_thread(self.sync.close)
