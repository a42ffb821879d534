"""What this process's adds changed in a scope the search cache holds (graphmem/cache/scope_cache.py),
as rows of cypher/scope_vectors.cypher, made from the parameters cypher/write_add.cypher was
given (`write.plan.plan_write`): the cache stays current without reading back what was just
written. Pure: `PendingWrites` folds writes in, `ScopeCache` applies them at the next search.

A write is folded in only when it follows what is held directly (`advanced`): its clock's
revision is the next one. Anything else (another process wrote in between, a deletion) is
left to the search's clock check, which reloads from Neo4j as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .._models import Scope
from ..store.clocks import WriteClock
from .vectors import NEVER, Clocks, EntityRow, FactRow, ScopeVectors, TurnRow

__all__ = ["PendingWrites", "Written", "advanced", "epoch_ms"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class _Unknown(Exception):
    """A write names a fact or entity the cache does not hold."""


@dataclass(frozen=True)
class Written:
    """One add's write: its scope, write_add's parameters and the clock it left."""

    scope: Scope
    params: dict[str, Any]
    clock: WriteClock


def epoch_ms(moment: datetime) -> float:
    """Whole epoch milliseconds, as the load's `datetime(...).epochMillis` gives them (a naive
    time is stored as UTC)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return float((aware - _EPOCH) // timedelta(milliseconds=1))


def advanced(clocks: Clocks, clock: WriteClock) -> Clocks | None:
    """`clocks` with the write's clock moved on, or None when the write does not follow them
    directly (a clock they hold at another revision or epoch, or a new clock past its first
    write): then what the cache holds is left for the search's clock check to refresh."""
    held = {key: (epoch, revision) for key, epoch, revision in clocks}
    before = held.get(clock.key)
    if before is None:
        if clock.revision != 1:
            return None
    elif before != (clock.epoch, clock.revision - 1):
        return None
    held[clock.key] = (clock.epoch, clock.revision)
    return tuple((key, epoch, revision) for key, (epoch, revision) in sorted(held.items()))


@dataclass
class PendingWrites:
    """The writes folded in since the cache last merged: the clocks after them and, by id, the
    rows they leave (a later write's row replaces an earlier one's)."""

    clocks: Clocks
    facts: dict[str, FactRow] = field(default_factory=dict)
    turns: dict[str, TurnRow] = field(default_factory=dict)
    entities: dict[str, EntityRow] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.facts) + len(self.turns) + len(self.entities)

    def fold(self, params: dict[str, Any], clocks: Clocks, held: ScopeVectors) -> bool:
        """One write's changes, as write_add applies `params` to a scope that holds `held`
        plus the writes folded before it. False, and nothing folded, when they do not add up
        (a fact or entity the write names that neither holds): the cache then reloads."""
        staged = PendingWrites(clocks, dict(self.facts), dict(self.turns), dict(self.entities))
        try:
            staged._fold(params, held)
        except _Unknown:
            return False
        self.clocks, self.facts, self.turns, self.entities = clocks, staged.facts, staged.turns, staged.entities
        return True

    def _fold(self, params: dict[str, Any], held: ScopeVectors) -> None:
        for m in params["messages"]:
            if m["embedding"] is not None and not self._has_turn(m["id"], held):  # created only
                self.turns[m["id"]] = TurnRow(m["id"], epoch_ms(m["timestamp"]), m["stems"], m["embedding"])
        for e in params["entities"]:
            row = self._entity(e["id"], held)
            if row is None:
                self.entities[e["id"]] = EntityRow(e["id"], e["name"], e["normalized"], e["embedding"])
            elif row.vector is None and e["embedding"] is not None:  # a stored node gets its first vector
                self.entities[e["id"]] = row._replace(vector=e["embedding"])
        for inv in params["invalidations"]:
            fact = self._fact(inv["id"], held)
            if fact.valid_to is None:  # write_add closes a fact still valid only
                self.facts[inv["id"]] = fact._replace(valid_to=epoch_ms(inv["valid_to"]))
        for nf in params["new_facts"]:
            text = self._text(nf["fact"], nf["relation"], nf["source_id"], nf["target_id"], held)
            self.facts[nf["id"]] = FactRow(
                nf["id"], nf["relation"], epoch_ms(nf["valid_from"]), None, nf["embedding"],
                nf["source_id"], nf["target_id"], text,
            )  # fmt: skip
        for up in params["updates"]:
            fact = self._fact(up["id"], held)
            text = self._text(up["fact"], up["relation"], fact.source_id, fact.target_id, held)
            self.facts[up["id"]] = fact._replace(relation=up["relation"], vector=up["embedding"], text=text)
        # restatements change nothing the cache holds

    def changes(self, dim: int) -> ScopeVectors:
        """The folded rows as a scope to lay over the held one (ScopeVectors.updated)."""
        return ScopeVectors.build(
            self.clocks, list(self.facts.values()), list(self.turns.values()), list(self.entities.values()), dim
        )

    def _has_turn(self, turn_id: str, held: ScopeVectors) -> bool:
        return turn_id in self.turns or held.position("turn", turn_id) is not None

    def _fact(self, fact_id: str, held: ScopeVectors) -> FactRow:
        if fact_id in self.facts:
            return self.facts[fact_id]
        at = held.position("fact", fact_id)
        if at is None:
            raise _Unknown(fact_id)
        valid_to = float(held.valid_to[at])
        return FactRow(
            fact_id, held.relations[at], float(held.valid_from[at]), None if valid_to == NEVER else valid_to,
            held.fact_vectors[at], *held.fact_ends[at], held.fact_texts[at],
        )  # fmt: skip

    def _entity(self, entity_id: str, held: ScopeVectors) -> EntityRow | None:
        if entity_id in self.entities:
            return self.entities[entity_id]
        at = held.position("entity", entity_id)
        if at is None:
            return None
        vector = held.entity_vectors[at] if held.entity_embedded[at] else None
        return EntityRow(entity_id, held.entity_names[at], held.entity_normalized[at], vector)

    def _text(self, sentence: str, relation: str, source_id: str, target_id: str, held: ScopeVectors) -> str:
        """The text search_keyword matches: sentence, relation and the ends' stored names."""
        ends = [self._entity(i, held) for i in (source_id, target_id)]
        if ends[0] is None or ends[1] is None:
            raise _Unknown(source_id if ends[0] is None else target_id)
        return f"{sentence} {relation} {ends[0].name} {ends[1].name}"
