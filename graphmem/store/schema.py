"""Applies cypher/schema.cypher idempotently and checks it fits the configured embedder."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from pydantic import BaseModel

from .._errors import SchemaError
from .queries import FILTERED_INDEXES, Queries, filters_by_scope, vector_filters_in

#: bump when cypher/schema.cypher changes; `graphmem init` records it in the database
#: 2: turns are searchable (message_embedding, message_text); full-text indexes stem (english)
#: 3: a fact's relation name is stored as `relation` (was `predicate`), fact_text indexes it
#: 4: a write clock per scope (GraphmemScope), checked by every write that matched entities
#: 5: scope clocks carry a revision and an epoch, indexed by scope ids (searches' scope caches)
#: 6: full-text indexes are eventually consistent (commits do not refresh them; queries await)
SCHEMA_VERSION = 6
VECTOR_INDEXES = ("entity_embedding", "fact_embedding", "message_embedding")
FULLTEXT_INDEXES = ("entity_name", "fact_text", "message_text")
FULLTEXT_ANALYZER = "english"
#: the properties each full-text index must cover (cypher/schema.cypher)
FULLTEXT_PROPERTIES = {"entity_name": ["name"], "fact_text": ["fact", "relation"], "message_text": ["content"]}
#: the first release whose vector indexes filter inside (SEARCH ... WHERE, Cypher 25)
VECTOR_FILTERS_SINCE = (2026, 1)


def vector_filters_supported(server_version: str | None) -> bool:
    """Whether a server of this version (e.g. "2026.08.1", "5.26.30") can build vector indexes
    with filter properties."""
    found = re.match(r"(\d+)\.(\d+)", server_version or "")
    return found is not None and (int(found[1]), int(found[2])) >= VECTOR_FILTERS_SINCE


class SchemaStatus(BaseModel):
    version: int | None
    dim: int | None
    model: str | None
    indexes: dict[str, str]  # name -> state
    index_dims: dict[str, int]
    analyzers: dict[str, str] = {}  # full-text index name -> analyzer
    eventually_consistent: dict[str, bool] = {}  # full-text index name -> its setting
    properties: dict[str, list[str]] = {}  # index name -> the properties it covers
    #: the target of a re-embedding begun and not finished (`graphmem init --reembed`); None: none
    reembed_model: str | None = None
    reembed_dim: int | None = None
    #: the server `graphmem init` last ran on (None: not recorded, before schema records held it)
    server_version: str | None = None
    populating: dict[str, float] = {}  # index name -> percent built, for those being built

    @property
    def vector_filters(self) -> bool:
        """Whether the vector indexes the matcher, the conflict lookup and the searches read
        filter inside (all three of FILTERED_INDEXES)."""
        return vector_filters_in(self.properties)

    @property
    def ready(self) -> bool:
        wanted = VECTOR_INDEXES + FULLTEXT_INDEXES
        return self.version is not None and all(self.indexes.get(n) == "ONLINE" for n in wanted)


def read_status(queries: Queries) -> SchemaStatus:
    record = queries.schema_read()
    rows = queries.schema_indexes(list(VECTOR_INDEXES + FULLTEXT_INDEXES))
    return SchemaStatus(
        version=record["version"],
        dim=record["dim"],
        model=record["model"],
        indexes={r["name"]: r["state"] for r in rows},
        index_dims={r["name"]: int(r["dim"]) for r in rows if r["dim"] is not None},
        analyzers={r["name"]: r["analyzer"] for r in rows if r["analyzer"] is not None},
        eventually_consistent={
            r["name"]: bool(r["eventually_consistent"]) for r in rows if r["name"] in FULLTEXT_INDEXES
        },
        properties={r["name"]: list(r["properties"] or []) for r in rows},
        reembed_model=record["reembed_model"],
        reembed_dim=record["reembed_dim"],
        server_version=record["server_version"],
        populating={r["name"]: float(r["percent"] or 0.0) for r in rows if r["state"] == "POPULATING"},
    )


def check_fits(queries: Queries, status: SchemaStatus, dim: int, model: str) -> None:
    """The stored memory can be opened with the configured embedder: no re-embedding left
    unfinished, vector indexes of its dimension, vectors of its model."""
    check_reembed(status)
    check_dimensions(status, dim, model)
    check_model(queries, status, model)


def check_reembed(status: SchemaStatus) -> None:
    """A re-embedding that was stopped leaves vectors of two models: nothing may use them."""
    if status.reembed_model is not None:
        raise SchemaError(
            f"a re-embedding of the stored memory from {status.model or 'unknown'} to {status.reembed_model} "
            f"({status.reembed_dim} dims) was stopped before it finished, so the stored vectors mix two models: "
            f"finish it with `graphmem init --reembed` (GRAPHMEM_EMBEDDER and GRAPHMEM_EMBEDDING_MODEL set for "
            f"{status.reembed_model}; with another embedder it starts over with that one)"
        )


def check_dimensions(status: SchemaStatus, dim: int, model: str) -> None:
    for name, stored in status.index_dims.items():
        if stored != dim:
            raise SchemaError(
                f"vector index {name} holds {stored}-dimensional vectors but the configured embedder "
                f"({model}) makes {dim}: set GRAPHMEM_EMBEDDER, GRAPHMEM_EMBEDDING_MODEL and GRAPHMEM_EMBEDDING_DIM back to the embedder "
                f"the data was built with ({status.model or 'unknown'}), re-embed the stored memory with the "
                f"configured one (`graphmem init --reembed`), or use another NEO4J_DATABASE"
            )


def check_model(queries: Queries, status: SchemaStatus, model: str) -> None:
    """Vectors of two models do not compare even at one dimension: refuse to mix them (turns
    hold vectors too: a memory of turns only counts)."""
    if status.model and status.model != model and any(queries.count_data().values()):
        raise SchemaError(
            f"the stored memory was embedded with {status.model} but the configured embedder is {model}: "
            f"configure {status.model} again (GRAPHMEM_EMBEDDER, GRAPHMEM_EMBEDDING_MODEL), re-embed the stored "
            f"memory with {model} (`graphmem init --reembed`), or use another NEO4J_DATABASE"
        )


def fulltext_outdated(status: SchemaStatus) -> bool:
    """Whether a full-text index must be built again: other properties, another analyzer, or
    synchronous (schema < 6; see cypher/schema.cypher)."""
    stale = [name for name, covered in status.properties.items() if FULLTEXT_PROPERTIES.get(name, covered) != covered]
    return (
        bool(stale)
        or any(analyzer != FULLTEXT_ANALYZER for analyzer in status.analyzers.values())
        or not all(status.eventually_consistent.values())
    )


def apply_schema(
    queries: Queries,
    *,
    dim: int,
    model: str,
    timeout: float = 120.0,
    progress: Callable[[str, float], None] | None = None,
    rebuild: bool = True,
) -> SchemaStatus:
    """Create what is missing, wait for every index to be online, record the version.

    Running it again changes nothing. A vector index built for another dimension is an
    error, never silently reused, and so is a re-embedding left unfinished (graphmem/store/reembed.py
    runs before this, and ends with the schema recorded for the new embedder). On a server whose
    vector indexes can filter inside (Neo4j 2026.01+), vector indexes built without filters are
    dropped and built again with them: `progress(index, percent)` reports the build, which an
    interrupted run resumes (the indexes it created are kept, the others are created). Only
    `graphmem init` rebuilds (`rebuild`); opening a memory never does (ensure_schema).
    """
    status = read_status(queries)
    check_fits(queries, status, dim, model)
    moved = 0
    while batch := queries.schema_migrate_relation(batch=10_000):
        moved += batch  # schema 3: `predicate` -> `relation`, a batch per transaction
    if moved:
        queries.expire_scope_clocks()  # running searches' caches reload the moved facts
    if fulltext_outdated(status):
        queries.schema_statements("schema_drop_fulltext")
    server_version = queries.server_version()
    filters = vector_filters_supported(server_version)
    rebuilt = (
        rebuild
        and filters
        and any(
            name in status.properties and not filters_by_scope(status.properties[name]) for name in FILTERED_INDEXES
        )
    )
    if rebuilt:
        drop_vector_indexes(queries)
    # a vector index built over stored data (here, or by a run cut short) can take many minutes
    building = rebuilt or bool(status.populating) or any(n not in status.indexes for n in VECTOR_INDEXES)
    # vector indexes kept keep their kind: the missing ones are built alike (the server's kind
    # when none is left)
    present = [] if rebuilt else [name for name in VECTOR_INDEXES if name in status.properties]
    build_indexes(
        queries,
        dim=dim,
        filters=filters and all(filters_by_scope(status.properties[name]) for name in present),
        timeout=max(timeout, 3600.0) if building else timeout,
        progress=progress,
    )
    status = read_status(queries)
    queries.known_vector_filters(status.vector_filters)
    if (
        status.version != SCHEMA_VERSION
        or status.dim != dim
        or status.model != model
        or status.server_version != server_version
    ):
        queries.schema_record(
            version=SCHEMA_VERSION,
            dim=dim,
            model=model,
            server_version=server_version,
            vector_filters=status.vector_filters,
        )
        status = read_status(queries)
    return status


def build_indexes(
    queries: Queries,
    *,
    dim: int,
    filters: bool | None = None,
    timeout: float = 120.0,
    progress: Callable[[str, float], None] | None = None,
) -> None:
    """Creates what cypher/schema.cypher declares and is missing, the vector indexes at `dim`
    (with filter properties where the server has them; None: ask it), and waits until every
    index is online."""
    if filters is None:
        filters = vector_filters_supported(queries.server_version())
    queries.schema_statements("schema", {"dim": dim})
    queries.schema_statements("schema_vector_filtered" if filters else "schema_vector", {"dim": dim})
    _wait_online(queries, timeout, progress)


def drop_vector_indexes(queries: Queries) -> None:
    """Drops the vector indexes (cypher/schema_drop_vector.cypher): a re-embedding to another
    dimension does, before build_indexes creates them at the new one, and so does a first
    `graphmem init` on a server whose vector indexes can filter inside."""
    queries.schema_statements("schema_drop_vector")


def _wait_online(queries: Queries, timeout: float, progress: Callable[[str, float], None] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        status = read_status(queries)
        states = {n: status.indexes.get(n) for n in VECTOR_INDEXES + FULLTEXT_INDEXES}
        if all(s == "ONLINE" for s in states.values()):
            return
        failed = [n for n, s in states.items() if s == "FAILED"]
        if failed:
            raise SchemaError(
                f"index {', '.join(failed)} FAILED to build: see the Neo4j log, drop it and rerun `graphmem init`"
            )
        if time.monotonic() > deadline:
            raise SchemaError(
                f"indexes not online after {timeout:.0f} s: {states}; Neo4j goes on building them: rerun "
                "`graphmem init` to wait again"
            )
        if progress is not None:
            for name, percent in status.populating.items():
                progress(name, percent)
        time.sleep(0.2 if progress is None else 1.0)


def ensure_schema(queries: Queries, *, dim: int, model: str) -> SchemaStatus:
    """Cheap check on start-up; applies the schema only when it is missing or outdated."""
    status = read_status(queries)
    check_fits(queries, status, dim, model)
    if status.ready and status.version == SCHEMA_VERSION and status.dim == dim and status.model == model:
        queries.known_vector_filters(status.vector_filters)  # what the indexes are: no second look
        return status
    return apply_schema(queries, dim=dim, model=model, rebuild=False)
