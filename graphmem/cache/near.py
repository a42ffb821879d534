"""An add's nearest stored entities and facts, from the scope this process's search cache holds
(graphmem/cache/scope_cache.py), instead of an exact scan or a shared vector index inside Neo4j.

The node matcher and the conflict detector each need, per new name or fact, the nearest ones
of the add's own scope. The cache already holds the scope's embeddings, kept current by this
process's writes (`PendingWrites`), so the ranking is a matrix product here, and Neo4j only
fetches the ranked ids. Pure: `HeldScope` is a snapshot, taken under the cache's lock.

It is used only when the held scope is exactly the add's scope (its only clock is the scope's
own: no scope below it wrote), and the statements that take these ids use them only when the
scope's clock in Neo4j is still at the epoch and revision of the snapshot; otherwise they scan
or ask the index as before (cypher/match_entities, cypher/conflict_candidates).
Scores are on Neo4j's scale, (1 + cosine) / 2, like those of the scans they stand in for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..store.clocks import NearRow
from .vectors import NEVER, EntityRow, FactRow, ScopeVectors, unit_rows

__all__ = ["HeldScope", "NearRow"]


@dataclass(frozen=True)
class HeldScope:
    """One scope as this process holds it: the merged rows and those folded in since
    (`pending_*`: rows of cypher/scope_vectors.cypher, by id, replacing the merged ones)."""

    epoch: str | None
    revision: int
    scope: ScopeVectors
    pending_entities: dict[str, EntityRow]
    pending_facts: dict[str, FactRow]

    def nearest_entities(self, vectors: Sequence[Sequence[float]], keep: int) -> list[list[NearRow]]:
        """Per vector, the `keep` nearest entities that have an embedding."""
        held = self.scope
        usable = held.entity_embedded & _not_replaced(held, "entity", self.pending_entities)
        extra = [(row.id, row.vector) for row in self.pending_entities.values() if row.vector is not None]
        return _nearest(held.entity_ids, held.entity_vectors, usable, extra, vectors, keep, min_score=None)

    def nearest_facts(self, vectors: Sequence[Sequence[float]], k: int, min_score: float) -> list[list[NearRow]]:
        """Per vector, the `k` nearest facts still valid, scoring at least `min_score`."""
        held = self.scope
        usable = (held.valid_to == NEVER) & _not_replaced(held, "fact", self.pending_facts)
        extra = [(row.id, row.vector) for row in self.pending_facts.values() if row.valid_to is None]
        return _nearest(held.fact_ids, held.fact_vectors, usable, extra, vectors, k, min_score=min_score)


def _not_replaced(held: ScopeVectors, kind: str, pending: Mapping[str, object]) -> np.ndarray:
    """False where a row folded in since (`pending`) replaces the merged one."""
    mask = np.ones(len(getattr(held, f"{kind}_ids")), dtype=bool)
    for item_id in pending:
        at = held.position(kind, item_id)
        if at is not None:
            mask[at] = False
    return mask


def _nearest(
    ids: tuple[str, ...],
    matrix: np.ndarray,
    usable: np.ndarray,
    extra: list[tuple[str, Any]],
    vectors: Sequence[Sequence[float]],
    keep: int,
    *,
    min_score: float | None,
) -> list[list[NearRow]]:
    """Per vector, the `keep` best of the usable rows of `matrix` (unit rows) and of `extra`."""
    if not vectors:
        return []
    dim = matrix.shape[1]
    queries = unit_rows(vectors, dim)
    extra_matrix = unit_rows([vector for _, vector in extra], dim)
    names = [*ids, *(item_id for item_id, _ in extra)]
    found = []
    for query in queries:
        # Over every row, masked after (no copy of the scope's matrix). einsum, not `@`: OpenBLAS
        # runs a product this size on two threads and leaves its worker spinning for the next
        # call, which burned ~35 ms of CPU per add between the add's round trips at 12,000 facts
        # (measured), on cores Neo4j needs; einsum's own loop is single-threaded and as fast here.
        row = np.concatenate(
            [np.where(usable, np.einsum("ij,j->i", matrix, query), -np.inf), np.einsum("ij,j->i", extra_matrix, query)]
        )
        top = np.argpartition(-row, keep - 1)[:keep] if len(row) > keep else np.arange(len(row))
        best = sorted(top, key=lambda at: (-row[at], at))
        scores = [(names[at], float((1.0 + row[at]) / 2.0)) for at in best if row[at] > -np.inf]  # Neo4j's scale
        found.append([{"id": i, "score": v} for i, v in scores if min_score is None or v >= min_score])
    return found
