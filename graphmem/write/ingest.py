"""Transcript ingest: windows of turns, each one add (one transaction), resumable, pipelined
on request (extraction of many windows at once, each scope committed in order).

Every message has a stable id, and add() skips ids already stored in the scope, so a
re-run after a kill continues where it stopped and creates no duplicates. A batch whose
LLM call fails is reported and left out; a later run retries it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

from pydantic import BaseModel, Field

from .._errors import LLMError
from .._models import AddResult, Message
from .batch import AddWindow, WindowOutcome


class AddsMany(Protocol):
    """What ingest adds through: GraphMemory.add_many."""

    def add_many(
        self,
        windows: Iterable[AddWindow],
        *,
        concurrency: int | None = None,
        on_extracted: Callable[[int], None] | None = None,
        on_committed: Callable[[int, WindowOutcome], None] | None = None,
    ) -> list[WindowOutcome]: ...


class IngestStats(BaseModel):
    messages: int = 0
    skipped: int = 0
    added: int = 0
    updated: int = 0
    invalidated: int = 0
    noop: int = 0
    #: triplets the ontology rejected (each AddResult says why)
    rejected: int = 0
    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    neo4j_round_trips: int = 0
    seconds: float = 0.0
    failures: list[str] = Field(default_factory=list)

    @property
    def facts(self) -> int:
        return self.added + self.updated

    def count(self, result: AddResult, batch_size: int) -> None:
        self.messages += batch_size - result.skipped_messages
        self.skipped += result.skipped_messages
        self.added += len(result.added)
        self.updated += len(result.updated)
        self.invalidated += len(result.invalidated)
        self.noop += len(result.noop)
        self.rejected += len(result.rejected)
        self.llm_calls += result.usage.llm_calls
        self.prompt_tokens += result.usage.prompt_tokens
        self.completion_tokens += result.usage.completion_tokens
        self.neo4j_round_trips += result.usage.neo4j_round_trips
        self.seconds += result.usage.seconds


def windows_of(
    messages: list[Message],
    *,
    user_id: str | None = None,
    agent_id: str | None = None,
    run_id: str | None = None,
    batch_size: int = 2,
    context_size: int = 10,
) -> Iterator[AddWindow]:
    """`messages` in windows of `batch_size`, each with the `context_size` turns before it."""
    for start in range(0, len(messages), batch_size):
        yield AddWindow(
            messages=messages[start : start + batch_size],
            context=messages[max(0, start - context_size) : start],
            user_id=user_id,
            agent_id=agent_id,
            run_id=run_id,
        )


def ingest_windows(
    memory: AddsMany,
    windows: Iterable[AddWindow],
    *,
    concurrency: int = 1,
    on_extracted: Callable[[int], None] | None = None,
    on_batch: Callable[[int, IngestStats], None] | None = None,
    stats: IngestStats | None = None,
) -> IngestStats:
    """Every window added (pipelined with `concurrency` > 1, see GraphMemory.add_many); a
    window whose LLM call failed is reported in `stats.failures` and left for a re-run.
    `on_extracted(n)` and `on_batch(n, stats)` get each window's number of turns."""
    stats = stats or IngestStats()
    lock = threading.Lock()  # the callbacks come from worker threads
    seen: dict[int, tuple[int, int]] = {}  # window index -> (first turn number, turns)
    counted = 0

    def numbered() -> Iterator[AddWindow]:
        nonlocal counted
        for index, window in enumerate(windows):
            seen[index] = (counted, len(window.messages))
            counted += len(window.messages)
            yield window

    def extracted(index: int) -> None:
        if on_extracted:
            with lock:
                on_extracted(seen[index][1])

    def committed(index: int, outcome: WindowOutcome) -> None:
        with lock:
            first, size = seen.pop(index)
            if isinstance(outcome, LLMError):
                stats.failures.append(f"messages {first + 1}-{first + size}: {outcome}")
            else:
                stats.count(outcome, size)
            if on_batch:
                on_batch(size, stats)

    memory.add_many(numbered(), concurrency=concurrency, on_extracted=extracted, on_committed=committed)
    return stats


def ingest_messages(
    memory: AddsMany,
    messages: list[Message],
    *,
    user_id: str | None = None,
    agent_id: str | None = None,
    run_id: str | None = None,
    batch_size: int = 2,
    context_size: int = 10,
    concurrency: int = 1,
    on_batch: Callable[[int, IngestStats], None] | None = None,
    stats: IngestStats | None = None,
) -> IngestStats:
    """Add `messages` in windows of `batch_size`, each with the `context_size` turns before it."""
    windows = windows_of(
        messages, user_id=user_id, agent_id=agent_id, run_id=run_id, batch_size=batch_size, context_size=context_size
    )
    return ingest_windows(memory, windows, concurrency=concurrency, on_batch=on_batch, stats=stats)
