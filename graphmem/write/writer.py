"""The writer: an add's two halves. `prepare` does not read the graph (extraction, the
ontology's fit, embedding: where an LLM's latency goes); `commit` matches, detects conflicts,
resolves and writes, in one transaction, retried optimistically when another writer changed
the scope first. `GraphMemory.add`, `add_many` and `add_triplets` all go through it.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from .._errors import ConcurrentWriteError, input_error
from .._models import (
    AddResult,
    ConflictSet,
    Entity,
    ExtractionInput,
    Message,
    Rejection,
    ResolutionDecision,
    Scope,
    Triplet,
    Usage,
    normalize_name,
    utcnow,
)
from .._names import relation_phrase
from .._tracing import span
from ..cache.scope_cache import ScopeCache
from ..cache.writes import Written
from ..embed._phrases import PhraseVectors
from ..embed.base import Embedder
from ..llm.base import LLM
from ..ontology.model import Ontology
from ..store.ids import message_node_id
from ..store.queries import Queries, ScopeChanged
from ..store.transport import Store, is_constraint_violation
from . import extract as _extract
from .conflicts import ConflictDetector
from .conform import conform
from .inputs import MessagesInput, check_metadata, parse_messages, valid_from
from .match import NodeMatcher
from .plan import AddPlan, StoredMessage, apply_plan
from .resolve import DecisionKey, UpdateResolver

#: adds of one scope are serialised from node matching to the write (see Writer._merge);
#: scopes share one of this many locks
_SCOPE_LOCK_STRIPES = 64
#: how often an add is matched again when other processes keep changing its scope first
_MAX_WRITE_ATTEMPTS = 10


class _AskFirst(Exception):
    """A locked attempt needs the LLM's answer about these conflicts: let go of the scope, ask."""

    def __init__(self, conflicts: list[ConflictSet]):
        self.conflicts = conflicts


@dataclass
class PreparedAdd:
    """An add extracted and embedded, not yet matched or written (Writer.prepare)."""

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


class Writer:
    """An add's stages, wired once: the matcher, the detector and the resolver, and the scope
    cache its owner (GraphMemory) hands it, whose held scopes rank an add's neighbours and into
    which every committed write is folded."""

    def __init__(
        self,
        store: Store,
        queries: Queries,
        *,
        llm: LLM,
        embedder: Embedder,
        ontology: Ontology | None,
        phrases: PhraseVectors,
        cache: ScopeCache | None,
        single_pass: bool,
        match_threshold: float,
        conflict_threshold: float,
    ):
        self.store = store
        self.queries = queries
        self.llm = llm
        self.embedder = embedder
        self.ontology = ontology
        self.phrases = phrases
        self.cache = cache
        self.single_pass = single_pass
        self.matcher = NodeMatcher(queries, threshold=match_threshold)
        self.detector = ConflictDetector(queries, embedder, fact_threshold=conflict_threshold, phrases=phrases)
        self.resolver = UpdateResolver(llm, ontology)
        self._scope_locks = [threading.RLock() for _ in range(_SCOPE_LOCK_STRIPES)]

    def prepare(
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
        at the same time; `commit` must then take them in order."""
        parsed = parse_messages(messages)
        check_metadata(metadata)
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
            valid_from=valid_from(timestamp, [s.message for s in stored]),
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

    def prepare_triplets(
        self,
        triplets: Sequence[dict[str, Any] | Triplet],
        *,
        scope: Scope,
        timestamp: datetime | str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> PreparedAdd:
        """`prepare` for triplets given as they are (no extraction): checked, fitted, embedded."""
        check_metadata(metadata)
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
            valid_from=valid_from(timestamp, []),
            metadata=metadata,
        )
        self._embed(prepared, *self._conform(prepared, cleaned.entities, cleaned.triplets))
        return prepared

    def commit(self, prepared: PreparedAdd, *, before_commit: Callable[[], None] | None = None) -> AddResult:
        """The half of an add that reads and writes the graph, in one transaction (none when
        there is nothing to write). Adds of one scope prepared at once commit in order."""
        result = self._merge(prepared, before_commit=before_commit)
        result.skipped_messages = prepared.skipped
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
                            lambda tx: self._merge_once(
                                prepared, self.queries.within(tx), answers, before_commit, locked=True
                            )
                        )
                    if self.cache is not None:
                        self.cache.wrote(written)  # committed: searches here need not read it back
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
        cache = self.cache
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
            with span(f"graphmem.{name}"):
                yield
        finally:
            usage.stages[name] = usage.stages.get(name, 0.0) + time.perf_counter() - started
