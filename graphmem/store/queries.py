"""The typed door to Neo4j: one method per statement of cypher/ the engine runs, with typed
arguments and typed rows. Stages, the CLI and eval call these; no one else builds a statement's
parameters. `Store` below it is the transport (driver, transactions, errors, round trips).

Shared parameter groups:
* `Filters`: the scope and what a read may see (as of a time, invalidated facts, types and
  relations); every search and read statement applies them (cypher/fragments/*_filter).
* `IndexWidth`: how a search reaches a scope's share of a shared index (exact scan up to
  `scan_max` items, else a top-k scaled by the scope's share, within [k_min, k_max]; where the
  index filters by scope, a top-`index_k` inside the scope).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict, cast

from .._models import Fact, Scope, Usage
from .._terms import word_terms
from . import statements
from .clocks import HeldClock, NearRow, WriteClock
from .ids import scope_clock_id
from .transport import Store, TransactionStore, fact_from_record

#: vector seed weights are rounded to this many decimals, here and in fragments/seed_entities
#: (sent as $seed_decimals), and by the scope cache's ranking, so that both sides tie the same
#: names (see seed_entities)
SEED_DECIMALS = 5


@dataclass(frozen=True)
class Filters:
    scope: Scope
    as_of: datetime | None = None
    include_invalidated: bool = False
    types: list[str] | None = None
    relations: list[str] | None = None

    def params(self) -> dict[str, Any]:
        return {
            **self.scope.params(),
            "as_of": self.as_of,
            "include_invalidated": self.include_invalidated,
            "types": self.types,
            "relations": self.relations,
        }

    def any_fact(self) -> Filters:
        """The same, without the types / relations filters (a chain may pass through any fact)."""
        return Filters(self.scope, self.as_of, self.include_invalidated)


@dataclass(frozen=True)
class IndexWidth:
    scan_max: int
    k_min: int
    k_max: int
    want: int

    def params(self) -> dict[str, Any]:
        return {
            "scan_max": self.scan_max,
            "k_min": self.k_min,
            "k_max": self.k_max,
            "want": self.want,
            # a search inside an index filtered by scope (cypher/filtered/) asks for at least k_min:
            # an approximate search for only the few wanted misses near neighbours
            "index_k": max(self.want, self.k_min),
        }


@dataclass(frozen=True)
class Seeding:
    """How the query's seed entities are found (cypher/fragments/seed_entities.cypher)."""

    words: list[str]
    min_vector_score: float
    vector_seeds: int
    seeds: int

    def params(self) -> dict[str, Any]:
        return {
            "words": self.words,
            "lucene": " OR ".join(self.words) or '""',
            "min_vector_score": self.min_vector_score,
            "vector_seeds": self.vector_seeds,
            "seeds": self.seeds,
            "seed_decimals": SEED_DECIMALS,
        }


# -- rows ---------------------------------------------------------------------------------
class EntityProbe(TypedDict):
    i: int
    normalized: str
    id: str
    embedding: list[float]
    near: list[NearRow]  # ranked from the scope cache (graphmem/cache/near.py); [] without it


class NodeRow(TypedDict):
    id: str
    name: str
    normalized: str
    type: str
    score: float


class EntityCandidates(TypedDict):
    i: int
    exact: dict[str, Any] | None
    near: list[NodeRow]
    scope_version: int  # the scope's write clock, read before the entities
    held: bool  # `near` ranked from the scope cache (the scope's clock was where it held it)


class FactProbe(TypedDict):
    i: int
    source_id: str
    target_id: str
    embedding: list[float]
    relations: list[str]  # the relation and those similar to it (graphmem/write/conflicts.similar_relations)
    near: list[NearRow]  # ranked from the scope cache (graphmem/cache/near.py); [] without it


class StoredCandidate(TypedDict):
    fact: dict[str, Any]  # fragments of fact_projection, read by fact_from_record
    score: float | None


class FactCandidates(TypedDict):
    i: int
    held: bool  # the nearest facts ranked from the scope cache (its clock was where it held it)
    candidates: list[StoredCandidate]


class ScoredFact(TypedDict):
    fact: dict[str, Any]
    score: float


class EpisodeRow(TypedDict):
    episode: dict[str, Any]
    vector: float | None
    keyword: float | None


class ExpandRow(TypedDict):
    fact: dict[str, Any]
    weight: float
    similarity: float | None
    next_id: str
    from_id: str


class SeedRow(TypedDict):
    id: str
    name: str
    normalized: str
    score: float


class GraphRow(TypedDict):
    id: str
    source_id: str
    target_id: str
    relation: str
    text: str
    source_type: str | None
    target_type: str | None
    similarity: float | None
    aspect_sims: list[float] | None
    source_degree: int
    target_degree: int


class ScopeVectorRows(TypedDict):
    clocks: list[list[Any]]  # [key, epoch, revision], by key
    facts: list[list[Any]]  # [id, relation, valid_from ms, valid_to ms | None, embedding, source id, target id, text]
    messages: list[list[Any]]  # [id, timestamp ms, stems, embedding]
    entities: list[list[Any]]  # [id, name, normalized, embedding | None]


class CachedRows(TypedDict):
    clocks: list[list[Any]]
    facts: list[dict[str, Any]]  # fragments/fact_projection
    episodes: list[dict[str, Any]]  # fragments/episode_projection


class SchemaRecord(TypedDict):
    version: int | None
    dim: int | None
    model: str | None
    #: the server `graphmem init` last ran on, and whether it built the vector indexes with filters
    server_version: str | None
    vector_filters: bool | None
    #: the target of a re-embedding under way (None: none)
    reembed_model: str | None
    reembed_dim: int | None


class OntologyRecord(TypedDict):
    """The ontology a database was recorded as written under (name None: none)."""

    recorded: bool
    name: str | None
    fingerprint: str | None


class IndexRow(TypedDict):
    name: str
    type: str
    state: str
    properties: list[str]
    dim: int | None
    analyzer: str | None
    eventually_consistent: bool | None
    percent: float | None  # populationPercent


class DataCounts(TypedDict):
    entities: int
    facts: int
    messages: int


class ScopeCounts(TypedDict):
    entities: int
    valid_facts: int
    invalidated_facts: int
    messages: int


class TurnToBackfill(TypedDict):
    id: str
    content: str
    unembedded: bool


class ReembedRecord(TypedDict):
    """A re-embedding under way (cypher/reembed_read.cypher): its target, None when there is
    none, and the last id its walk did per kind (None or '' before the first batch)."""

    model: str | None
    dim: int | None
    entities_after: str | None
    facts_after: str | None
    messages_after: str | None


class ReembedItem(TypedDict):
    """An item a re-embedding embeds again, with the text its embedding is made from."""

    id: str
    text: str


class ScopeChanged(Exception):
    """An add's write found its scope changed by another writer since its reads: match again."""


#: the vector indexes the matcher, the conflict lookup and the searches use, filtered inside when
#: they can
FILTERED_INDEXES = ("entity_embedding", "fact_embedding", "message_embedding")


def filters_by_scope(properties: Sequence[str] | None) -> bool:
    """Whether a vector index covering these properties filters by scope inside: the scope key
    is one of its filter properties (cypher/schema_vector_filtered.cypher)."""
    return "scope_key" in (properties or ())


def vector_filters_in(properties: Mapping[str, Sequence[str] | None]) -> bool:
    """Whether the indexes (name -> the properties each covers) let the matcher, the conflict
    lookup and the searches run their cypher/filtered/ variants: each of FILTERED_INDEXES filters
    by scope."""
    return all(filters_by_scope(properties.get(name)) for name in FILTERED_INDEXES)


class Queries:
    """One method per named statement (the file's name); `usage` counts the round trip.

    `vector_filters`: whether the vector indexes filter inside (built by `graphmem init` on Neo4j
    2026.01+ with the scope keys as filter properties): the matcher, the conflict lookup and the
    vector searches then run their cypher/filtered/ variants. None: read from the indexes once, when first needed."""

    def __init__(self, store: Store | TransactionStore, *, vector_filters: bool | None = None):
        self.store = store
        self._vector_filters = vector_filters

    def within(self, tx: TransactionStore) -> Queries:
        """The same statements inside an open transaction (which cannot read the schema)."""
        return Queries(tx, vector_filters=self.vector_filters())

    def vector_filters(self) -> bool:
        if self._vector_filters is None:
            rows = self.schema_indexes(list(FILTERED_INDEXES))
            self._vector_filters = vector_filters_in({row["name"]: row["properties"] for row in rows})
        return self._vector_filters

    def known_vector_filters(self, filters: bool) -> None:
        """What the schema says the indexes are (saves vector_filters its look)."""
        self._vector_filters = filters

    def _variant(self, name: str) -> str:
        """The statement `name`, or its cypher/filtered/ variant where the indexes filter inside."""
        return f"filtered/{name}" if self.vector_filters() else name

    def _rows(self, name: str, params: dict[str, Any], usage: Usage | None = None, *, write: bool = False) -> Any:
        return self.store.run(name, params, write=write, usage=usage)

    # -- writing an add ------------------------------------------------------------------
    def match_entities(
        self,
        scope: Scope,
        probes: list[EntityProbe],
        *,
        keep: int,
        width: IndexWidth,
        held: HeldClock | None = None,
        usage: Usage,
    ) -> list[EntityCandidates]:
        params = {
            **scope.params(),
            "scope_key": scope.key,
            "scope_clock": scope_clock_id(scope),
            "rows": probes,
            "keep": keep,
            **width.params(),
            **_held_params(held),
        }
        return cast(list[EntityCandidates], self._rows(self._variant("match_entities"), params, usage))

    def conflict_candidates(
        self,
        scope: Scope,
        probes: list[FactProbe],
        *,
        known: list[str],
        k: int,
        per_source: int,
        min_score: float,
        held: HeldClock | None = None,
        usage: Usage,
    ) -> list[FactCandidates]:
        """`known`: the relation names the detector has judged; a source's fact of one of those
        that is not among a probe's `relations` (nor between the same two nodes) is not sent."""
        params = {
            "rows": probes,
            "known": known,
            "scope_key": scope.key,
            "scope_clock": scope_clock_id(scope),
            "k": k,
            "per_source": per_source,
            "min_score": min_score,
            **_held_params(held),
        }
        return cast(list[FactCandidates], self._rows(self._variant("conflict_candidates"), params, usage))

    def write_add(
        self, params: dict[str, Any], *, usage: Usage, before_commit: Callable[[], None] | None = None
    ) -> WriteClock:
        """cypher/write_add.cypher in one transaction; `params` come from `write.plan.plan_write`.
        Returns the scope's clock as the write left it. Raises ScopeChanged, the transaction
        rolled back, when another writer changed the scope after the add's reads (the
        statement then writes nothing and returns no row)."""

        def claimed(rows: list[dict[str, Any]]) -> None:
            if not rows:
                raise ScopeChanged(params["scope_key"])

        rows = self.store.write_transaction(
            "write_add", params, usage=usage, check_rows=claimed, before_commit=before_commit
        )
        row = rows[0]
        return WriteClock(str(row["clock"]), None if row["epoch"] is None else str(row["epoch"]), int(row["revision"]))

    def claim_scope(self, scope: Scope, now: datetime, *, usage: Usage) -> int:
        """Takes the scope's write clock until the transaction ends (only useful inside
        Store.unit_of_work) and returns its version."""
        params = {**scope.params(), "scope_clock": scope_clock_id(scope), "now": now}
        return int(self._rows("claim_scope", params, usage, write=True)[0]["version"])

    def known_messages(self, ids: list[str], *, usage: Usage) -> set[str]:
        return set(self._rows("known_messages", {"ids": ids}, usage)[0]["known"])

    # -- search ----------------------------------------------------------------------------
    def search_triplets(
        self, filters: Filters, width: IndexWidth, embedding: list[float] | None, limit: int, usage: Usage
    ) -> list[ScoredFact]:
        params = {**filters.params(), **width.params(), "embedding": embedding, "limit": limit}
        return cast(list[ScoredFact], self._rows(self._variant("search_triplets"), params, usage))

    def search_keyword(
        self, filters: Filters, width: IndexWidth, words: list[str], limit: int, usage: Usage
    ) -> list[ScoredFact]:
        # an exactly scanned scope matches each word or its stem as a prefix; the full-text
        # indexes stem the words themselves (english analyzer)
        terms = word_terms(words)
        params = {
            **filters.params(),
            **width.params(),
            "patterns": [term.pattern() for term in terms],
            "needles": [sorted(term.words | {term.prefix} if term.prefix else term.words) for term in terms],
            "lucene": " OR ".join(words),
            "limit": limit,
        }
        return cast(list[ScoredFact], self._rows("search_keyword", params, usage))

    def search_episodes(
        self,
        filters: Filters,
        width: IndexWidth,
        embedding: list[float] | None,
        words: list[str],
        stems: list[str],
        limit: int,
        usage: Usage,
    ) -> list[EpisodeRow]:
        params = {
            **filters.params(),
            **width.params(),
            "embedding": embedding,
            "stems": stems,
            "lucene": " OR ".join(words) if words else None,
            "limit": limit,
        }
        return cast(list[EpisodeRow], self._rows(self._variant("search_episodes"), params, usage))

    def search_entities(
        self,
        filters: Filters,
        width: IndexWidth,
        seeding: Seeding,
        embedding: list[float] | None,
        fanout: int,
        usage: Usage,
    ) -> list[ExpandRow]:
        params = {**filters.params(), **width.params(), **seeding.params(), "embedding": embedding, "fanout": fanout}
        return cast(list[ExpandRow], self._rows(self._variant("search_entities"), params, usage))

    def search_expand(
        self, filters: Filters, frontier: dict[str, float], embedding: list[float] | None, fanout: int, usage: Usage
    ) -> list[ExpandRow]:
        params = {
            **filters.params(),
            "frontier": [{"id": node, "weight": w} for node, w in frontier.items()],
            "embedding": embedding,
            "fanout": fanout,
        }
        return cast(list[ExpandRow], self._rows("search_expand", params, usage))

    def search_seed_entities(
        self, filters: Filters, width: IndexWidth, seeding: Seeding, embedding: list[float] | None, usage: Usage
    ) -> list[SeedRow]:
        params = {**filters.params(), **width.params(), **seeding.params(), "embedding": embedding}
        return cast(list[SeedRow], self._rows(self._variant("search_seed_entities"), params, usage))

    def search_graph(
        self,
        filters: Filters,
        nodes: list[str],
        embedding: list[float] | None,
        aspects: list[list[float]],
        *,
        fanout: int,
        hub_scan: int,
        listed: list[str],
        usage: Usage,
    ) -> list[GraphRow]:
        params = {
            **filters.any_fact().params(),
            "nodes": nodes,
            "embedding": embedding,
            "aspects": aspects,
            "fanout": fanout,
            "hub_scan": hub_scan,
            "listed": listed,
        }
        return cast(list[GraphRow], self._rows("search_graph", params, usage))

    def search_graph_facts(self, filters: Filters, ids: list[str], usage: Usage) -> list[Fact]:
        rows = self._rows("search_graph_facts", {**filters.any_fact().params(), "ids": ids}, usage)
        return [fact_from_record(row["fact"]) for row in rows]

    def scope_vectors(self, scope: Scope, *, since: int | None, max_items: int, usage: Usage | None) -> ScopeVectorRows:
        """What the search's scope cache holds of a scope (all of it, or what the writes
        after revision `since` touched), at most `max_items` facts, turns and entities each."""
        everything = Filters(scope, include_invalidated=True)  # the search filters in process
        params = {**everything.params(), "since": since, "max_items": max_items}
        return cast(ScopeVectorRows, self._rows("scope_vectors", params, usage)[0])

    def search_cached(
        self, filters: Filters, fact_ids: list[str], message_ids: list[str], *, usage: Usage
    ) -> CachedRows:
        params = {**filters.params(), "fact_ids": fact_ids, "message_ids": message_ids}
        return cast(CachedRows, self._rows("search_cached", params, usage)[0])

    # -- reading and deleting -----------------------------------------------------------
    def get_all(self, scope: Scope, *, include_invalidated: bool, limit: int | None) -> list[Fact]:
        params = {**scope.params(), "include_invalidated": include_invalidated, "limit": limit}
        return self._facts("get_all", params)

    def get_fact(self, fact_id: str) -> list[Fact]:
        return self._facts("get_fact", {"id": fact_id})

    def history(self, entity_or_fact_id: str) -> list[Fact]:
        return self._facts("history", {"id": entity_or_fact_id})

    def get_episodes(self, scope: Scope, ids: list[str]) -> list[dict[str, Any]]:
        rows = self._rows("get_episodes", {**scope.params(), "as_of": None, "ids": ids})
        return [row["episode"] for row in rows]

    def list_episodes(self, scope: Scope, *, id_prefix: str | None, limit: int) -> list[dict[str, Any]]:
        params = {**scope.params(), "as_of": None, "id_prefix": id_prefix, "limit": limit}
        return [row["episode"] for row in self._rows("list_episodes", params)]

    def delete_episodes(self, scope: Scope, ids: list[str]) -> int:
        return int(
            self._rows("delete_episodes", {**scope.params(), "as_of": None, "ids": ids}, write=True)[0]["deleted"]
        )

    def find_entity(self, scope: Scope, normalized: str) -> list[str]:
        return [row["id"] for row in self._rows("find_entity", {**scope.params(), "normalized": normalized})]

    def scope_stats(self, scope: Scope | None) -> ScopeCounts:
        """The scope's counts; with None, the whole database's."""
        params = {**scope.params()} if scope else {"user_id": None, "agent_id": None, "run_id": None}
        return cast(ScopeCounts, self._rows("scope_stats", params)[0])

    def count_data(self) -> DataCounts:
        return cast(DataCounts, self._rows("count_data", {})[0])

    def delete_fact(self, fact_id: str) -> None:
        self._rows("delete_fact", {"id": fact_id}, write=True)

    def delete_scope(self, scope: Scope) -> int:
        return int(self._rows("delete_scope", {**scope.params()}, write=True)[0]["deleted"])

    def reset(self) -> int:
        return int(self._rows("reset", {}, write=True)[0]["deleted"])

    # -- schema and backfill --------------------------------------------------------------
    def schema_statements(self, name: str, params: dict[str, Any] | None = None) -> None:
        """Each statement of a schema file (cypher/schema.cypher, schema_drop_fulltext.cypher),
        one transaction each: Neo4j runs one schema command per transaction."""
        for statement in statements.statements(name):
            self.store.run_text(statement, params, write=True)

    def schema_read(self) -> SchemaRecord:
        return cast(SchemaRecord, self._rows("schema_read", {})[0])

    def schema_indexes(self, names: list[str]) -> list[IndexRow]:
        return cast(list[IndexRow], self._rows("schema_indexes", {"names": names}))

    def schema_migrate_relation(self, *, batch: int) -> int:
        """Moves one batch of facts' `predicate` to `relation`; returns how many it moved."""
        return int(self._rows("schema_migrate_relation", {"batch": batch}, write=True)[0]["moved"])

    def schema_record(
        self, *, version: int, dim: int, model: str, server_version: str | None, vector_filters: bool
    ) -> None:
        params = {
            "version": version,
            "dim": dim,
            "model": model,
            "server_version": server_version,
            "vector_filters": vector_filters,
        }
        self._rows("schema_record", params, write=True)

    def server_version(self) -> str | None:
        rows = self._rows("server_components", {})
        return str(rows[0]["version"]) if rows and rows[0]["version"] else None

    def ontology_record(self, *, name: str | None, fingerprint: str | None) -> OntologyRecord:
        """Records the ontology the database is written under; returns the one recorded before."""
        params = {"name": name, "fingerprint": fingerprint}
        return cast(OntologyRecord, self._rows("ontology_record", params, write=True)[0])

    def episodes_backfill_count(self, stemmer: str) -> int:
        return int(self._rows("episodes_backfill_count", {"stemmer": stemmer})[0]["missing"])

    def episodes_to_backfill(self, *, after: str, limit: int, stemmer: str) -> list[TurnToBackfill]:
        params = {"after": after, "limit": limit, "stemmer": stemmer}
        return cast(list[TurnToBackfill], self._rows("episodes_to_backfill", params))

    def expire_scope_clocks(self) -> int:
        """New epochs for every scope clock: searches' scope caches reload them."""
        return int(self._rows("expire_scope_clocks", {}, write=True)[0]["expired"])

    def episodes_backfill(self, rows: list[dict[str, Any]], *, stemmer: str) -> None:
        self._rows("episodes_backfill", {"rows": rows, "stemmer": stemmer}, write=True)

    # -- re-embedding (graphmem/store/reembed.py) ---------------------------------------------
    def reembed_read(self) -> ReembedRecord:
        return cast(ReembedRecord, self._rows("reembed_read", {})[0])

    def reembed_begin(
        self, *, model: str, dim: int, entities_after: str, facts_after: str, messages_after: str
    ) -> None:
        """Records the re-embedding's target and where each kind's walk begins."""
        params = {
            "model": model,
            "dim": dim,
            "entities_after": entities_after,
            "facts_after": facts_after,
            "messages_after": messages_after,
        }
        self._rows("reembed_begin", params, write=True)

    def reembed_remaining(self, *, entities_after: str, facts_after: str, messages_after: str) -> DataCounts:
        params = {"entities_after": entities_after, "facts_after": facts_after, "messages_after": messages_after}
        return cast(DataCounts, self._rows("reembed_remaining", params)[0])

    def reembed_entities_batch(self, *, after: str, limit: int) -> list[ReembedItem]:
        return cast(list[ReembedItem], self._rows("reembed_entities_batch", {"after": after, "limit": limit}))

    def reembed_facts_batch(self, *, after: str, limit: int) -> list[ReembedItem]:
        return cast(list[ReembedItem], self._rows("reembed_facts_batch", {"after": after, "limit": limit}))

    def reembed_messages_batch(self, *, after: str, limit: int) -> list[ReembedItem]:
        return cast(list[ReembedItem], self._rows("reembed_messages_batch", {"after": after, "limit": limit}))

    def reembed_entities_write(self, rows: list[dict[str, Any]], *, after: str) -> int:
        """`rows`: id, text, embedding; returns how many were written (the others changed)."""
        return int(self._rows("reembed_entities_write", {"rows": rows, "after": after}, write=True)[0]["written"])

    def reembed_facts_write(self, rows: list[dict[str, Any]], *, after: str) -> int:
        return int(self._rows("reembed_facts_write", {"rows": rows, "after": after}, write=True)[0]["written"])

    def reembed_messages_write(self, rows: list[dict[str, Any]], *, after: str) -> int:
        return int(self._rows("reembed_messages_write", {"rows": rows, "after": after}, write=True)[0]["written"])

    def reembed_finish(self, *, version: int | None, dim: int, model: str) -> None:
        """Records the embedder the memory now holds and ends the re-embedding (one transaction)."""
        self._rows("reembed_finish", {"version": version, "dim": dim, "model": model}, write=True)

    def _facts(self, name: str, params: dict[str, Any]) -> list[Fact]:
        return [fact_from_record(row["fact"]) for row in self._rows(name, params) if row.get("fact")]


def _held_params(held: HeldClock | None) -> dict[str, Any]:
    """The clock a cache-ranked `near` list is good for (null: the statement ranks itself)."""
    return {"held_epoch": held.epoch if held else None, "held_revision": held.revision if held else None}
