"""Pipelined adds: many windows of turns at once, with the order that matters kept.

Extraction and embedding do not read the graph, so up to `concurrency` windows run them at
the same time (that is where an LLM's latency goes). Matching, conflict resolution and the
write read what the windows before them wrote: within a scope they run in the windows' order,
one transaction per window, exactly as a serial run would. Different scopes commit in parallel.

At most 2 x `concurrency` windows are read ahead of the last one finished, so a long
transcript is never held in memory whole.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from .._errors import InputError, LLMError
from .._models import AddResult, Message, Scope

if TYPE_CHECKING:
    from .writer import PreparedAdd


class Halves(Protocol):
    """An add's two halves (the Writer's): `prepare` may run for many windows at once,
    `commit` runs one scope's windows one at a time, in order."""

    def prepare(
        self,
        messages: Sequence[Message | dict[str, Any] | str],
        *,
        scope: Scope,
        context: Sequence[Message],
        timestamp: datetime | str | None,
        metadata: dict[str, Any] | None,
    ) -> PreparedAdd: ...

    def commit(self, prepared: PreparedAdd) -> AddResult: ...


@dataclass
class AddWindow:
    """One add: turns of one scope, with earlier turns as context for the extractor."""

    messages: Sequence[Message | dict[str, Any] | str]
    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None
    context: list[Message] = field(default_factory=list)
    timestamp: datetime | None = None
    metadata: dict[str, Any] | None = None

    @property
    def scope(self) -> Scope:
        return Scope(user_id=self.user_id, agent_id=self.agent_id, run_id=self.run_id)


#: what one window ended with: its result, or the LLM error that left it out (a re-run retries it)
WindowOutcome = AddResult | LLMError


class _Turn:
    """The commit order of one scope: a window commits once the one before it is done."""

    def __init__(self, before: _Turn | None):
        self.before = before
        self.done = threading.Event()
        self.failed = False  # a failure other than the LLM's: later windows must not commit


class _Stopped(Exception):
    """A window before this one in its scope failed with an error that stops the run."""


def add_many(
    writer: Halves,
    windows: Iterable[AddWindow],
    *,
    concurrency: int,
    on_extracted: Callable[[int], None] | None = None,
    on_committed: Callable[[int, WindowOutcome], None] | None = None,
) -> list[WindowOutcome]:
    """Every window added, in the order that a serial run would commit them per scope.

    Returns one outcome per window, in input order. An LLMError leaves its window out and the
    rest go on (as a serial ingest does); any other error stops the run: windows not yet
    committed are not written, and the first such error is raised once the others in flight
    have finished, so what is stored is, per scope, a prefix of the windows."""
    if concurrency < 1:
        raise InputError(f"concurrency must be at least 1 (windows extracted at once), got {concurrency}")
    last: dict[str, _Turn] = {}
    outcomes: dict[int, WindowOutcome] = {}
    stop = threading.Event()
    errors: list[BaseException] = []

    def run(index: int, window: AddWindow, scope: Scope, turn: _Turn) -> None:
        try:
            if stop.is_set():
                raise _Stopped()
            prepared: PreparedAdd | LLMError
            try:
                prepared = writer.prepare(
                    window.messages,
                    scope=scope,
                    context=window.context,
                    timestamp=window.timestamp,
                    metadata=window.metadata,
                )
            except LLMError as exc:
                prepared = exc
            if on_extracted:
                on_extracted(index)
            before, turn.before = turn.before, None  # no chain of every window kept alive
            if before is not None:
                before.done.wait()
                if before.failed:
                    raise _Stopped()
            if stop.is_set():
                raise _Stopped()
            outcome: WindowOutcome
            try:
                outcome = prepared if isinstance(prepared, LLMError) else writer.commit(prepared)
            except LLMError as exc:  # the resolver's call
                outcome = exc
            outcomes[index] = outcome
            if on_committed:
                on_committed(index, outcome)
        except BaseException as exc:
            turn.failed = True
            if not isinstance(exc, _Stopped):
                errors.append(exc)
            stop.set()
        finally:
            turn.done.set()

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="graphmem-add") as pool:
        pending: set[Future[None]] = set()
        for index, window in enumerate(_until(windows, stop)):
            scope = window.scope
            turn = _Turn(last.get(scope.key))
            last[scope.key] = turn
            pending.add(pool.submit(run, index, window, scope, turn))
            if len(pending) >= 2 * concurrency:
                _, pending = wait(pending, return_when=FIRST_COMPLETED)
        wait(pending)
    if errors:
        raise errors[0]
    return [outcomes[i] for i in sorted(outcomes)]


def _until(windows: Iterable[AddWindow], stop: threading.Event) -> Iterator[AddWindow]:
    for window in windows:
        if stop.is_set():
            return
        yield window
