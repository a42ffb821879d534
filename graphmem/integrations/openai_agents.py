"""graphmem as OpenAI Agents SDK function tools: `search_memory` and `save_memory`.

    from agents import Agent, Runner
    from graphmem.integrations.openai_agents import memory_tools

    agent = Agent(name="assistant", tools=memory_tools(memory, user_id="alice"))
    await Runner.run(agent, "Where do I live?")

Scope mapping: the scope is the application's, never the model's. `memory_tools(memory,
user_id=..., agent_id=..., run_id=...)` binds the tools to that scope; with none of the three,
each call takes it from the run context (`Runner.run(..., context=ctx)`): its `user_id`,
`agent_id` and `run_id` attributes (or keys, for a dict), those that are set. No tool takes a
scope argument, so the model cannot read or write another scope. A run context naming no scope
fails the run with a ConfigError (the application's mistake, not the model's).

`memory` is an AsyncGraphMemory (used as is) or a GraphMemory (each call runs in a worker
thread, so the event loop never blocks on Neo4j or the extractor). A bad argument of the model
(an empty text, say) or a failed extraction comes back to the model as the tool's output,
"Error: " and graphmem's message; any other failure (Neo4j down, a bad configuration) is raised
out of the run rather than hidden from the application as a tool output.

No `Session`. The SDK's Session protocol (get_items / add_items / pop_item / clear_session) is
an exact, ordered log of the run's input items, and graphmem is not one:
- the items are not only chat turns: function calls and their outputs, reasoning items, and
  content given as lists of parts, which graphmem's turns (role, text, speaker, time) cannot
  hold losslessly, so get_items could not give the SDK back what it stored;
- graphmem's turns are memory, not a log: every turn stored goes through extraction, so a
  session of tool calls would feed the extractor JSON, and `episodes()` / `delete_episodes()`
  list and remove turns, not the SDK's items;
- clear_session would have to delete the session's turns while the facts drawn from them stay:
  a "cleared" session whose content the memory still answers with;
- add_items runs every turn through extraction (LLM calls) before the next turn can start.
Keep the conversation in one of the SDK's sessions (SQLiteSession, ...) and give graphmem
what is worth remembering, through `save_memory` or `memory.add` after the run.
"""

from __future__ import annotations

from typing import Any

from .._errors import ConfigError, GraphmemError
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

require("agents", extra="openai-agents")

from agents import RunContextWrapper, Tool, function_tool  # noqa: E402

__all__ = ["SAVE_DESCRIPTION", "SEARCH_DESCRIPTION", "memory_tools", "scope_from_context"]


def scope_from_context(context: object) -> Scope:
    """The scope a run context names (see `_tools.scope_from`)."""
    return scope_from(context, owner="memory_tools", fix="bind the tools with memory_tools(memory, user_id=...)")


def memory_tools(
    memory: GraphMemory | AsyncGraphMemory,
    *,
    user_id: str | None = None,
    agent_id: str | None = None,
    run_id: str | None = None,
    max_tokens: int = 2000,
    limit: int = 10,
    episodes: int = DEFAULT_EPISODES,
) -> list[Tool]:
    """`search_memory` and `save_memory` over `memory`: bound to the scope given, or, with no
    id given, in the scope of each call's run context (see `scope_from_context`). `max_tokens`
    bounds the context text search_memory returns; `limit` and `episodes` are how many facts
    and past turns it looks up. Each tool is a FunctionTool; the list is typed as the SDK's
    `Agent(tools=...)` takes it."""
    if max_tokens < 1:
        raise ConfigError(f"memory_tools: max_tokens must be positive, got {max_tokens}")
    bound = Scope(user_id=user_id, agent_id=agent_id, run_id=run_id) if (user_id or agent_id or run_id) else None

    def scope_of(ctx: RunContextWrapper[Any]) -> Scope:
        return bound if bound is not None else scope_from_context(ctx.context)

    async def search_memory(ctx: RunContextWrapper[Any], query: str) -> str:
        """Recall.

        Args:
            query: the question or topic to recall, in natural language
        """
        scope = scope_of(ctx)
        try:
            results = await search(memory, query, scope, limit=limit, episodes=episodes)
        except MODEL_ERRORS as exc:
            return _error_text(exc)
        return results.to_context(max_tokens=max_tokens) or NOTHING_FOUND

    async def save_memory(ctx: RunContextWrapper[Any], text: str) -> str:
        """Remember.

        Args:
            text: what to remember, as a statement in the user's words
        """
        scope = scope_of(ctx)
        try:
            result = await add(memory, text, scope)
        except MODEL_ERRORS as exc:
            return _error_text(exc)
        return saved_text(result)

    # failure_error_function=None: any other error is raised out of the run, not shown to the model
    return [
        function_tool(
            search_memory,
            name_override="search_memory",
            description_override=SEARCH_DESCRIPTION,
            failure_error_function=None,
        ),
        function_tool(
            save_memory,
            name_override="save_memory",
            description_override=SAVE_DESCRIPTION,
            failure_error_function=None,
        ),
    ]


def _error_text(exc: GraphmemError) -> str:
    return f"Error: {exc}"
