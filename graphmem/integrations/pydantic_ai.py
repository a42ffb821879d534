"""graphmem as a Pydantic AI toolset: `search_memory` and `save_memory`.

    from pydantic_ai import Agent
    from graphmem.integrations.pydantic_ai import memory_toolset

    agent = Agent("openai:gpt-5", deps_type=Deps, toolsets=[memory_toolset(memory)])
    agent.run_sync("Where do I live?", deps=Deps(user_id="alice"))

Scope mapping: the scope is the run's, never the model's. It comes from the run's
dependencies (`ctx.deps`): by default their `user_id`, `agent_id` and `run_id` attributes (or
keys, for a dict), those that are set; or `scope=` maps the deps to a `Scope` yourself
(`scope=lambda deps: Scope(user_id=deps.account.id)`), or fixes one `Scope` for every run. No
tool takes a scope argument, so the model cannot read or write another scope. Deps naming no
scope fail the run with a ConfigError (the application's mistake, not the model's).

`memory` is an AsyncGraphMemory (used as is) or a GraphMemory (each call runs in a worker
thread, so the event loop never blocks on Neo4j or the extractor). A bad argument of the
model (an empty text, say) or a failed extraction goes back to the model as a retry prompt
with graphmem's message; anything else (Neo4j down, a bad configuration) fails the run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

from pydantic import Field

from .._errors import ConcurrentWriteError, ConfigError, InputError, LLMError
from .._memory import AsyncGraphMemory, GraphMemory
from .._models import AddResult, Scope
from .._retrieve import DEFAULT_EPISODES, SearchResults
from .._wire import add_text
from ._require import require

require("pydantic_ai", extra="pydantic-ai")

from pydantic_ai import FunctionToolset, ModelRetry, RunContext, Tool  # noqa: E402

__all__ = ["SAVE_DESCRIPTION", "SEARCH_DESCRIPTION", "memory_toolset", "scope_from_deps"]

DepsT = TypeVar("DepsT")

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


Query = Annotated[str, Field(description="the question or topic to recall, in natural language")]
Text = Annotated[str, Field(description="what to remember, as a statement in the user's words")]


def scope_from_deps(deps: object) -> Scope:
    """The scope the run's deps name: their `user_id`, `agent_id` and `run_id` attributes (or
    keys of a mapping), those that are set. A ConfigError when they name none."""
    ids: dict[str, Any] = {}
    for key in ("user_id", "agent_id", "run_id"):
        value = deps.get(key) if isinstance(deps, Mapping) else getattr(deps, key, None)
        if value is not None:
            ids[key] = value
    if not ids:
        raise ConfigError(
            f"memory_toolset: the run's deps ({type(deps).__name__}) name no scope: give them a user_id, "
            "agent_id or run_id attribute, or pass scope= to memory_toolset"
        )
    try:
        return Scope(**ids)
    except InputError as exc:
        raise ConfigError(f"memory_toolset: the run's deps name a bad scope: {exc}") from None


def memory_toolset(
    memory: GraphMemory | AsyncGraphMemory,
    *,
    scope: Scope | Callable[[DepsT], Scope] | None = None,
    max_tokens: int = 2000,
    limit: int = 10,
    episodes: int = DEFAULT_EPISODES,
    id: str | None = None,
) -> FunctionToolset[DepsT]:
    """A toolset of `search_memory` and `save_memory` over `memory`, in the run's scope.

    `scope`: None reads it from the deps (see `scope_from_deps`); a callable maps the deps to
    it; a `Scope` fixes it. `max_tokens` bounds the context text search_memory returns;
    `limit` and `episodes` are how many facts and past turns it looks up. `id` names the
    toolset (durable execution engines need one)."""
    if max_tokens < 1:
        raise ConfigError(f"memory_toolset: max_tokens must be positive, got {max_tokens}")

    def scope_of(ctx: RunContext[DepsT]) -> Scope:
        if isinstance(scope, Scope):
            return scope
        if scope is None:
            return scope_from_deps(ctx.deps)
        chosen = scope(ctx.deps)
        if not isinstance(chosen, Scope):
            raise ConfigError(f"memory_toolset: scope= returned a {type(chosen).__name__}, not a graphmem Scope")
        return chosen

    async def search_memory(ctx: RunContext[DepsT], query: Query) -> str:
        ids = scope_of(ctx)
        with _model_errors():
            results = await _search(memory, query, ids, limit=limit, episodes=episodes)
        return results.to_context(max_tokens=max_tokens) or "No memories found."

    async def save_memory(ctx: RunContext[DepsT], text: Text) -> str:
        ids = scope_of(ctx)
        with _model_errors():
            result = await _add(memory, text, ids)
        return _saved_text(result)

    return FunctionToolset[DepsT](
        [
            Tool(search_memory, takes_ctx=True, name="search_memory", description=SEARCH_DESCRIPTION),
            Tool(save_memory, takes_ctx=True, name="save_memory", description=SAVE_DESCRIPTION),
        ],
        id=id,
    )


def _saved_text(result: AddResult) -> str:
    if result.added or result.updated or result.invalidated or result.noop or result.rejected:
        return add_text(result)
    if result.skipped_messages:
        return "Already stored: nothing new."
    return "No fact was extracted, but the text is kept: search_memory can still find it."


@contextmanager
def _model_errors() -> Iterator[None]:
    """What the model can act on goes back to it as a retry prompt with graphmem's message
    (its argument was wrong, or the extractor failed this time); the rest fails the run."""
    try:
        yield
    except (InputError, LLMError, ConcurrentWriteError) as exc:
        raise ModelRetry(str(exc)) from None


async def _search(
    memory: GraphMemory | AsyncGraphMemory, query: str, scope: Scope, *, limit: int, episodes: int
) -> SearchResults:
    if isinstance(memory, AsyncGraphMemory):
        return await memory.search(query, **scope.params(), limit=limit, episodes=episodes)
    return await asyncio.to_thread(memory.search, query, **scope.params(), limit=limit, episodes=episodes)


async def _add(memory: GraphMemory | AsyncGraphMemory, text: str, scope: Scope) -> AddResult:
    if isinstance(memory, AsyncGraphMemory):
        return await memory.add(text, **scope.params())
    return await asyncio.to_thread(memory.add, text, **scope.params())
