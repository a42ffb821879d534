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

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, TypeVar

from pydantic import Field

from .._errors import ConfigError
from .._memory import AsyncGraphMemory, GraphMemory
from .._models import Scope
from ..search.recipes import DEFAULT_EPISODES
from ._require import require
from ._tools import (
    MODEL_ERRORS,
    NOTHING_FOUND,
    SAVE_DESCRIPTION,
    SEARCH_DESCRIPTION,
    add,
    saved_text,
    scope_from,
    search,
)

require("pydantic_ai", extra="pydantic-ai")

from pydantic_ai import FunctionToolset, ModelRetry, RunContext, Tool  # noqa: E402

__all__ = ["SAVE_DESCRIPTION", "SEARCH_DESCRIPTION", "memory_toolset", "scope_from_deps"]

DepsT = TypeVar("DepsT")

Query = Annotated[str, Field(description="the question or topic to recall, in natural language")]
Text = Annotated[str, Field(description="what to remember, as a statement in the user's words")]


def scope_from_deps(deps: object) -> Scope:
    """The scope the run's deps name (see `_tools.scope_from`)."""
    return scope_from(deps, owner="memory_toolset", fix="pass scope= to memory_toolset")


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
            results = await search(memory, query, ids, limit=limit, episodes=episodes)
        return results.to_context(max_tokens=max_tokens) or NOTHING_FOUND

    async def save_memory(ctx: RunContext[DepsT], text: Text) -> str:
        ids = scope_of(ctx)
        with _model_errors():
            result = await add(memory, text, ids)
        return saved_text(result)

    return FunctionToolset[DepsT](
        [
            Tool(search_memory, takes_ctx=True, name="search_memory", description=SEARCH_DESCRIPTION),
            Tool(save_memory, takes_ctx=True, name="save_memory", description=SAVE_DESCRIPTION),
        ],
        id=id,
    )


@contextmanager
def _model_errors() -> Iterator[None]:
    """What the model can act on goes back to it as a retry prompt with graphmem's message
    (its argument was wrong, or the extractor failed this time); the rest fails the run."""
    try:
        yield
    except MODEL_ERRORS as exc:
        raise ModelRetry(str(exc)) from None
