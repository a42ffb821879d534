"""`graphmem init --reembed`: every stored vector made again by the configured embedder, so a
memory can move to another embedding model (GRAPHMEM_EMBEDDER) and dimension.

What an add embeds is embedded again, from the same text (graphmem/_memory.py, `_embed`): an
entity's name, a fact's sentence (`fact`), a turn's content. Nothing else stored holds a vector
(relation phrases are only cached in process: graphmem/embed/_phrases.py).

Resumable and never silently mixed: the target (model, dim) is recorded in the schema record
before the first vector is written, and each batch (its own transaction, walking each kind in id
order) moves that kind's cursor in the same transaction. While a target is recorded, opening the
memory fails (graphmem/store/schema.check_reembed); a second `init --reembed` goes on after the
cursors, or starts over when the configured embedder is not the recorded target. When the
dimension changes, the vector indexes are dropped before the new vectors are written and created
at the new dimension after them (Neo4j 5.26 stores a vector of another length than its index's
and leaves it out of the index: nothing is lost either way). The new model and dimension are
recorded, and the target removed, once the indexes are online. Processes still running with the
old embedder must be stopped first: they would go on writing the old model's vectors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from .._errors import ConfigError
from ..embed.base import Embedder
from .queries import Queries, ReembedItem, ReembedRecord
from .schema import SchemaStatus, build_indexes, drop_vector_indexes, read_status

Kind = Literal["entities", "facts", "messages"]
KINDS: tuple[Kind, ...] = get_args(Kind)
#: what a progress bar calls each kind
KIND_LABELS: dict[Kind, str] = {"entities": "entities", "facts": "facts", "messages": "turns"}
#: `progress(step, n)`: n more items of a kind done (committed), or ("indexes", 1) once they are online
Step = Literal["entities", "facts", "messages", "indexes"]
Action = Literal["none", "start", "resume", "restart"]
#: embedded once before anything is recorded: the embedder must answer at the target's length
PROBE = "graphmem re-embedding probe"


@dataclass(frozen=True)
class ReembedPlan:
    """What `graphmem init --reembed` must do (decided by `decide`, pure)."""

    #: none: the memory already holds the target's vectors; start: a new re-embedding; resume: go
    #: on with the one recorded (same target); restart: the recorded one had another target
    action: Action
    model: str
    dim: int
    #: the model and dimension the stored memory was recorded with (None: not recorded)
    from_model: str | None
    from_dim: int | None
    #: where each kind's walk begins: the last id done ('' from the first)
    after: dict[Kind, str] = field(default_factory=lambda: dict.fromkeys(KINDS, ""))
    #: the vector indexes have another dimension than the target's: drop them before writing
    drop_vector_indexes: bool = False
    #: the schema version recorded (kept as it is: `graphmem init` migrates it afterwards)
    version: int | None = None

    @property
    def needed(self) -> bool:
        return self.action != "none"

    def describe(self) -> str:
        target = f"{self.model} ({self.dim} dims)"
        source = f"{self.from_model or 'an unrecorded embedder'} ({self.from_dim or '?'} dims)"
        if self.action == "none":
            return f"the stored memory is embedded with {target} already: nothing to re-embed"
        if self.action == "resume":
            return f"resuming the re-embedding of the stored memory from {source} to {target}"
        if self.action == "restart":
            return f"re-embedding the stored memory with {target} (the unfinished re-embedding had another target)"
        return f"re-embedding the stored memory from {source} to {target}"


def decide(
    status: SchemaStatus, cursors: dict[Kind, str | None], *, model: str, dim: int, has_data: bool
) -> ReembedPlan:
    """What a re-embedding with the embedder (model, dim) must do, given the schema status, the
    cursors of a re-embedding under way (cypher/reembed_read.cypher) and whether the database
    holds any entity, fact or turn. Pure: unit-tested without Neo4j."""
    dims_fit = all(d == dim for d in status.index_dims.values())
    common: dict[str, Any] = {
        "model": model,
        "dim": dim,
        "from_model": status.model,
        "from_dim": status.dim,
        "drop_vector_indexes": not dims_fit,
        "version": status.version,
    }
    if status.reembed_model is not None:
        if (status.reembed_model, status.reembed_dim) == (model, dim):
            after: dict[Kind, str] = {kind: cursors.get(kind) or "" for kind in KINDS}
            return ReembedPlan(action="resume", after=after, **common)
        return ReembedPlan(action="restart", **common)
    if status.model is None:
        # never recorded: a new database is for `graphmem init` to build; stored data of an
        # unrecorded embedder is embedded again
        done = dims_fit and not has_data
    else:
        done = status.model == model and status.dim == dim and dims_fit
    return ReembedPlan(action="none" if done else "start", **common)


def plan_reembed(queries: Queries, embedder: Embedder) -> ReembedPlan:
    """Reads what the database holds and decides (`decide`)."""
    status = read_status(queries)
    record = queries.reembed_read()
    has_data = any(queries.count_data().values())
    return decide(status, _cursors(record), model=embedder.model_name, dim=embedder.dim, has_data=has_data)


def remaining(queries: Queries, plan: ReembedPlan) -> dict[Kind, int]:
    """How many items of each kind the plan has left (the progress totals)."""
    if not plan.needed:
        return dict.fromkeys(KINDS, 0)
    counts = queries.reembed_remaining(
        entities_after=plan.after["entities"], facts_after=plan.after["facts"], messages_after=plan.after["messages"]
    )
    return {kind: int(counts[kind]) for kind in KINDS}


def run_reembed(
    queries: Queries,
    embedder: Embedder,
    plan: ReembedPlan,
    *,
    batch: int = 256,
    progress: Callable[[Step, int], None] | None = None,
    index_timeout: float = 3600.0,
) -> dict[Kind, int]:
    """Carries the plan out; returns how many items of each kind were embedded again.

    Stopped anywhere (an exception, Ctrl-C, a crash), it leaves the target recorded: opening
    the memory fails until a second run (`plan_reembed` then this) finishes it."""
    if (plan.model, plan.dim) != (embedder.model_name, embedder.dim):
        raise ValueError(f"the plan is for {plan.model} ({plan.dim}), the embedder is {embedder.model_name}")
    if batch < 1:
        raise ValueError(f"batch must be at least 1, not {batch}")
    done: dict[Kind, int] = dict.fromkeys(KINDS, 0)
    if not plan.needed:
        return done
    # the embedder answers, at the target's length, before anything is recorded or dropped: a bad
    # key, URL or model fails here and leaves the memory as it was
    _check_vectors(embedder, 1, embedder.embed([PROBE]))
    queries.reembed_begin(
        model=plan.model,
        dim=plan.dim,
        entities_after=plan.after["entities"],
        facts_after=plan.after["facts"],
        messages_after=plan.after["messages"],
    )
    if plan.drop_vector_indexes:
        drop_vector_indexes(queries)
    for kind in KINDS:
        done[kind] = _walk(queries, embedder, kind, plan.after[kind], batch, progress)
    # every vector is the target's: the indexes are built at its dimension (the ones kept at the
    # same dimension took the new vectors in as they were written), then the target is recorded
    build_indexes(queries, dim=plan.dim, timeout=index_timeout)
    queries.reembed_finish(version=plan.version, dim=plan.dim, model=plan.model)
    queries.expire_scope_clocks()  # running searches' scope caches reload the new vectors
    if progress is not None:  # after the finish: a stop asked for now has nothing left to stop
        progress("indexes", 1)
    return done


def reembed(
    queries: Queries, embedder: Embedder, *, batch: int = 256, progress: Callable[[Step, int], None] | None = None
) -> tuple[ReembedPlan, dict[Kind, int]]:
    """Plans and runs a re-embedding with `embedder` (what `graphmem init --reembed` does)."""
    plan = plan_reembed(queries, embedder)
    return plan, run_reembed(queries, embedder, plan, batch=batch, progress=progress)


def _walk(
    queries: Queries,
    embedder: Embedder,
    kind: Kind,
    after: str,
    batch: int,
    progress: Callable[[Step, int], None] | None,
) -> int:
    """One kind's items after `after`, a batch per transaction; returns how many were embedded."""
    read, write = _STATEMENTS[kind]
    done = 0
    while True:
        rows = read(queries, after=after, limit=batch)
        if not rows:
            return done
        vectors = embedder.embed([row["text"] for row in rows])
        _check_vectors(embedder, len(rows), vectors)
        after = rows[-1]["id"]
        filled = [{"id": row["id"], "text": row["text"], "embedding": v} for row, v in zip(rows, vectors, strict=True)]
        write(queries, filled, after=after)
        done += len(rows)
        if progress is not None:
            progress(kind, len(rows))


def _check_vectors(embedder: Embedder, count: int, vectors: list[list[float]]) -> None:
    """A vector of another length than the indexes' would be stored and never found."""
    if len(vectors) != count:
        raise ConfigError(f"the embedder {embedder.model_name} returned {len(vectors)} vectors for {count} texts")
    wrong = {len(v) for v in vectors} - {embedder.dim}
    if wrong:
        raise ConfigError(
            f"the embedder {embedder.model_name} returned {sorted(wrong)[0]}-dimensional vectors but is configured "
            f"for {embedder.dim}: fix GRAPHMEM_EMBEDDING_DIM, then run `graphmem init --reembed` again"
        )


def _cursors(record: ReembedRecord) -> dict[Kind, str | None]:
    return {
        "entities": record["entities_after"],
        "facts": record["facts_after"],
        "messages": record["messages_after"],
    }


_Read = Callable[..., list[ReembedItem]]
_Write = Callable[..., int]
_STATEMENTS: dict[Kind, tuple[_Read, _Write]] = {
    "entities": (Queries.reembed_entities_batch, Queries.reembed_entities_write),
    "facts": (Queries.reembed_facts_batch, Queries.reembed_facts_write),
    "messages": (Queries.reembed_messages_batch, Queries.reembed_messages_write),
}
