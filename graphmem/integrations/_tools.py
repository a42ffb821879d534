"""What every framework's search and save tools share: their descriptions for the model, how a
scope is read from the application's run context, the calls (sync or async memory), and the
text a save returns. The framework modules only wrap these in their own tool types."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from .._errors import ConcurrentWriteError, ConfigError, InputError, LLMError
from .._memory import AsyncGraphMemory, GraphMemory
from .._models import AddResult, Scope
from ..search.results import SearchResults
from ..serve.wire import add_text

SEARCH_DESCRIPTION = (
    "Recall what long-term memory holds about the user and past conversations. Call it before "
    "answering anything that may depend on earlier sessions (the user's life, preferences, "
    "people, plans) and whenever the user asks what you remember. It answers multi-hop "
    "questions ('where does my sister work?'). Returns text: dated facts, most relevant first, "
    "then the relevant past turns with their speaker and date; empty memory returns "
    "'No memories found.'"
)
SAVE_DESCRIPTION = (
    "Store something worth remembering in later conversations: a fact about the user, their "
    "preferences, people, places, plans or decisions. Write it as a statement in the user's "
    "words ('I moved to Lisbon in May', 'My sister Ana works at Acme'); 'I' and 'my' mean the "
    "user. A fact that changed replaces the old one, which stays in the history. Returns what "
    "was stored: the facts added, updated or no longer true, each with its id."
)
NOTHING_FOUND = "No memories found."

#: what the model can act on: its argument was wrong, or the extractor failed this time
MODEL_ERRORS = (InputError, LLMError, ConcurrentWriteError)


def scope_from(context: object, *, owner: str, fix: str) -> Scope:
    """The scope a run's context names: its `user_id`, `agent_id` and `run_id` attributes (or
    keys of a mapping), those that are set. A ConfigError naming `owner` and `fix` when it
    names none: the application's mistake, not the model's."""
    ids: dict[str, Any] = {}
    for key in ("user_id", "agent_id", "run_id"):
        value = context.get(key) if isinstance(context, Mapping) else getattr(context, key, None)
        if value is not None:
            ids[key] = value
    if not ids:
        raise ConfigError(
            f"{owner}: the run's context ({type(context).__name__}) names no scope: give it a user_id, "
            f"agent_id or run_id attribute, or {fix}"
        )
    try:
        return Scope(**ids)
    except InputError as exc:
        raise ConfigError(f"{owner}: the run's context names a bad scope: {exc}") from None


def saved_text(result: AddResult) -> str:
    if result.added or result.updated or result.invalidated or result.noop or result.rejected:
        return add_text(result)
    if result.skipped_messages:
        return "Already stored: nothing new."
    return "No fact was extracted, but the text is kept: search_memory can still find it."


async def search(memory: GraphMemory | AsyncGraphMemory, query: str, scope: Scope, **options: Any) -> SearchResults:
    """`memory.search` in `scope` (`options`: its other arguments), never blocking the event
    loop: an AsyncGraphMemory awaited, a GraphMemory in a worker thread."""
    if isinstance(memory, AsyncGraphMemory):
        return await memory.search(query, **scope.params(), **options)
    return await asyncio.to_thread(memory.search, query, **scope.params(), **options)


async def add(memory: GraphMemory | AsyncGraphMemory, turns: str | list[dict[str, str]], scope: Scope) -> AddResult:
    """A text, or chat turns ({role, content, name?}), through the write pipeline (as `search`
    runs it)."""
    if isinstance(memory, AsyncGraphMemory):
        return await memory.add(turns, **scope.params())
    return await asyncio.to_thread(memory.add, turns, **scope.params())
