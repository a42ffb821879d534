"""Transcript ingest: windows of turns, each one add (one transaction), resumable.

Every message has a stable id, and add() skips ids already stored in the scope, so a
re-run after a kill continues where it stopped and creates no duplicates. A batch whose
LLM call fails is reported and left out; a later run retries it.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, Field

from ._errors import LLMError
from ._memory import GraphMemory
from ._models import AddResult, Message


class IngestStats(BaseModel):
    messages: int = 0
    skipped: int = 0
    added: int = 0
    updated: int = 0
    invalidated: int = 0
    noop: int = 0
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
        self.llm_calls += result.usage.llm_calls
        self.prompt_tokens += result.usage.prompt_tokens
        self.completion_tokens += result.usage.completion_tokens
        self.neo4j_round_trips += result.usage.neo4j_round_trips
        self.seconds += result.usage.seconds


def ingest_messages(
    memory: GraphMemory,
    messages: list[Message],
    *,
    user_id: str | None = None,
    agent_id: str | None = None,
    run_id: str | None = None,
    batch_size: int = 2,
    context_size: int = 10,
    on_batch: Callable[[int, IngestStats], None] | None = None,
    stats: IngestStats | None = None,
) -> IngestStats:
    """Add `messages` in windows of `batch_size`, each with the `context_size` turns before it."""
    stats = stats or IngestStats()
    for start in range(0, len(messages), batch_size):
        batch = messages[start : start + batch_size]
        context = messages[max(0, start - context_size) : start]
        try:
            result = memory.add(batch, user_id=user_id, agent_id=agent_id, run_id=run_id, context=context)
        except LLMError as exc:
            stats.failures.append(f"messages {start + 1}-{start + len(batch)}: {exc}")
        else:
            stats.count(result, len(batch))
        if on_batch:
            on_batch(len(batch), stats)
    return stats
