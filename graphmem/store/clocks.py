"""A scope's clock: one node per scope (cypher/fragments/scope_clock.cypher), and the two
things its counters guard, named here once.

* `version` guards an add's write: it counts the writes that matched entities, and an add
  commits only when the version is still the one its reads saw (write_add's optimistic check;
  `claim_scope` takes the clock and returns it for the locked retry).
* `revision` with `epoch` guard the search's scope cache (graphmem/cache/): `revision` counts
  every write, `epoch` changes when something is deleted; a scope held at the same epoch and
  revision is current, and a ranking made from it (`HeldClock`) is used by a statement only
  then (cypher/fragments/held_clock.cypher).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["HeldClock", "NearRow", "WriteClock"]

NearRow = dict[str, Any]  # {"id": ..., "score": ...}, best first: a ranking the cache made


@dataclass(frozen=True)
class WriteClock:
    """The clock one committed write advanced (write_add's row): key, epoch, new revision."""

    key: str
    epoch: str | None
    revision: int


class HeldClock(Protocol):
    """The clock of a scope as a cache snapshot held it: what its rankings are good for."""

    @property
    def epoch(self) -> str | None: ...

    @property
    def revision(self) -> int: ...
