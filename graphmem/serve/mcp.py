"""`graphmem mcp`: the memory as MCP tools, on the official `mcp` SDK (MCPServer), over stdio or
streamable HTTP. A thin layer: each tool checks its scope (ScopePolicy) and calls
AsyncGraphMemory; no memory logic lives here."""

# no `from __future__ import annotations`: the SDK reads the tools' annotations at runtime
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from .._errors import ConfigError, GraphmemError
from .._memory import AsyncGraphMemory
from .._models import AddResult, MemoryInfo, MemoryStats
from .._requests import (
    AddFactsRequest,
    AddRequest,
    AgentId,
    ChatMessage,
    FactsRequest,
    RunId,
    SearchRequest,
    TripletInput,
    UserId,
)
from ..search.recipes import DEFAULT_EPISODES, DEFAULT_MODE, Mode
from .asgi import serve_until_signalled
from .auth import BearerAuth
from .scope_policy import ScopePolicy
from .wire import Deleted, FactList, SearchPayload, add_text, facts_text, search_payload, search_text, stats_text

INSTRUCTIONS = """Long-term graph memory (graphmem). Store what the user tells you with add_memory
(the turns as said; facts are extracted from them, contradicted ones are kept as history) and
recall with search_memory before answering questions about the user, their people, places,
work and past. search_memory answers multi-hop questions ("where does her brother work?")."""


class Status(MemoryInfo):
    scope: dict[str, str | None] = Field(description="the server's scope (--user, --agent, --run)")
    any_user: bool
    delete_all_allowed: bool
    counts: MemoryStats | None = Field(description="what the server's scope holds (none without a fixed scope)")


def _result(payload: BaseModel, text: str) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=text)], structured_content=payload.model_dump(mode="json")
    )


@contextmanager
def _tool_errors() -> Iterator[None]:
    """A graphmem error reaches the model as a tool error with its message (what was wrong and
    the fix); anything else is the SDK's crash path."""
    try:
        yield
    except GraphmemError as exc:
        raise ToolError(str(exc)) from None


#: the tools of each profile (`graphmem mcp --profile`): `core` is what an assistant needs every
#: turn, and keeps a small model's tool list short; `full` is every tool
PROFILES: dict[str, tuple[str, ...]] = {
    "core": ("add_memory", "search_memory", "get_facts"),
    "full": (
        "add_memory",
        "add_facts",
        "search_memory",
        "get_facts",
        "get_history",
        "delete_fact",
        "get_status",
        "delete_all_memories",
    ),
}


def build_server(
    memory: AsyncGraphMemory,
    policy: ScopePolicy,
    *,
    allow_delete_all: bool = False,
    version: str = "",
    profile: str = "full",
) -> MCPServer:
    if profile not in PROFILES:
        raise ConfigError(f"unknown MCP profile {profile!r}: use one of {', '.join(PROFILES)}")
    # WARNING: the SDK logs every failed tool call at INFO, which floods a desktop client's log
    server = MCPServer("graphmem", instructions=INSTRUCTIONS, version=version, log_level="WARNING")
    read_only = ToolAnnotations(read_only_hint=True, open_world_hint=False)

    @server.tool(
        description="Save what the user tells you so it is remembered in later conversations. Call it after "
        "each user turn that says something about them, their people, places, work, plans or preferences; pass "
        "the turns as said. Facts are extracted and merged; a fact that contradicts a stored one replaces it (the "
        "old one is kept as history). Returns the facts added, updated and invalidated."
    )
    async def add_memory(
        messages: Annotated[
            str | list[ChatMessage],
            Field(description="a text, or chat messages [{role, content, name?, timestamp?, id?}]"),
        ],
        timestamp: Annotated[datetime | None, Field(description="when it was said (default: now)")] = None,
        metadata: Annotated[dict[str, Any] | None, Field(description="flat JSON values stored with the facts")] = None,
        user_id: UserId = None,
        agent_id: AgentId = None,
        run_id: RunId = None,
    ) -> Annotated[CallToolResult, AddResult]:
        with _tool_errors():
            scope = policy.resolve(user_id, agent_id, run_id)
            request = AddRequest(messages=messages, timestamp=timestamp, metadata=metadata, **scope.params())
            result = await memory.add(**request.arguments())
            return _result(result, add_text(result))

    @server.tool(description="Store facts given as triplets (source -[relation]-> target), without extraction.")
    async def add_facts(
        triplets: Annotated[list[TripletInput], Field(description="the facts", min_length=1)],
        timestamp: Annotated[datetime | None, Field(description="when they became true (default: now)")] = None,
        metadata: Annotated[dict[str, Any] | None, Field(description="flat JSON values stored with the facts")] = None,
        user_id: UserId = None,
        agent_id: AgentId = None,
        run_id: RunId = None,
    ) -> Annotated[CallToolResult, AddResult]:
        with _tool_errors():
            scope = policy.resolve(user_id, agent_id, run_id)
            request = AddFactsRequest(triplets=triplets, timestamp=timestamp, metadata=metadata, **scope.params())
            result = await memory.add_triplets(**request.arguments())
            return _result(result, add_text(result))

    @server.tool(
        description="Recall what is known before answering a question about the user, their people, places, "
        "work or past. Give the question in natural language; multi-hop questions work ('where does her brother "
        "work?'). Returns a ready-to-use context text: the relevant facts with their dates, then the relevant "
        "conversation turns; each fact also comes with its id and score.",
        annotations=read_only,
    )
    async def search_memory(
        query: Annotated[str, Field(description="the question or topic, in natural language")],
        limit: Annotated[int, Field(ge=1, le=100, description="how many facts")] = 10,
        mode: Annotated[
            Mode, Field(description="associative (default, multi-hop), hybrid, entity, ...")
        ] = DEFAULT_MODE,
        episodes: Annotated[int, Field(ge=0, le=100, description="how many stored turns (0: none)")] = DEFAULT_EPISODES,
        hops: Annotated[
            int | None, Field(ge=1, le=3, description="chain length (associative, 3) or expansion depth (entity, 1)")
        ] = None,
        as_of: Annotated[datetime | None, Field(description="what was true at this time")] = None,
        include_invalidated: Annotated[bool, Field(description="also facts no longer true")] = False,
        entity_types: Annotated[
            list[str] | None, Field(description="only facts about entities of these types, e.g. ['Person']")
        ] = None,
        relations: Annotated[
            list[str] | None, Field(description="only facts of these relations, e.g. ['works_at']")
        ] = None,
        max_tokens: Annotated[int, Field(ge=50, le=32000, description="budget of the context text")] = 2000,
        user_id: UserId = None,
        agent_id: AgentId = None,
        run_id: RunId = None,
    ) -> Annotated[CallToolResult, SearchPayload]:
        with _tool_errors():
            scope = policy.resolve(user_id, agent_id, run_id)
            request = SearchRequest.checked(
                "search_memory",
                query=query,
                limit=limit,
                mode=mode,
                episodes=episodes,
                hops=hops,
                as_of=as_of,
                include_invalidated=include_invalidated,
                entity_types=entity_types,
                relations=relations,
                max_tokens=max_tokens,
                **scope.params(),
            )
            results = await memory.search(**request.arguments())
            payload = search_payload(results, request.max_tokens)
            return _result(payload, search_text(payload))

    @server.tool(
        description="List every fact stored about the user (not a search: use search_memory to answer a "
        "question). Call it when the user asks what you remember. Returns the fact sentences with their ids "
        "and dates.",
        annotations=read_only,
    )
    async def get_facts(
        include_invalidated: Annotated[bool, Field(description="also facts no longer true")] = False,
        limit: Annotated[int, Field(ge=1, le=10000)] = 200,
        user_id: UserId = None,
        agent_id: AgentId = None,
        run_id: RunId = None,
    ) -> Annotated[CallToolResult, FactList]:
        with _tool_errors():
            scope = policy.resolve(user_id, agent_id, run_id)
            listing = FactsRequest(include_invalidated=include_invalidated, limit=limit, **scope.params())
            facts = await memory.get_all(**listing.arguments())
            return _result(FactList(facts=facts), facts_text(facts))

    @server.tool(
        description="Every version of a fact (by fact id) or every fact of an entity (by name or id), "
        "invalidated ones included, oldest first.",
        annotations=read_only,
    )
    async def get_history(
        name_or_id: Annotated[str, Field(description="an entity name such as 'Alice', or a fact or entity id")],
        user_id: UserId = None,
        agent_id: AgentId = None,
        run_id: RunId = None,
    ) -> Annotated[CallToolResult, FactList]:
        with _tool_errors():
            scope = policy.resolve(user_id, agent_id, run_id)
            facts = await memory.history(name_or_id, **scope.params())
            return _result(FactList(facts=facts), facts_text(facts))

    @server.tool(
        description="Delete one fact for good (to record that it stopped being true, add_memory instead).",
        annotations=ToolAnnotations(destructive_hint=True, idempotent_hint=True),
    )
    async def delete_fact(
        fact_id: Annotated[str, Field(description="the fact's id, as search_memory or get_facts return it")],
        user_id: UserId = None,
        agent_id: AgentId = None,
        run_id: RunId = None,
    ) -> Annotated[CallToolResult, Deleted]:
        with _tool_errors():
            scope = policy.resolve(user_id, agent_id, run_id)
            if not await memory.delete(fact_id, **scope.params()):
                raise ToolError(f"no fact {fact_id!r} in this scope: take the id from search_memory or get_facts")
            return _result(Deleted(deleted=1), f"Deleted fact {fact_id}.")

    @server.tool(description="The server, the Neo4j it uses, the extractor, and what the scope holds.")
    async def get_status() -> Annotated[CallToolResult, Status]:
        with _tool_errors():
            info = await memory.info()
            counts = None
            if any((policy.user_id, policy.agent_id, policy.run_id)):
                counts = await memory.stats(user_id=policy.user_id, agent_id=policy.agent_id, run_id=policy.run_id)
            status = Status(
                **info.model_dump(),
                scope={"user_id": policy.user_id, "agent_id": policy.agent_id, "run_id": policy.run_id},
                any_user=policy.any_user,
                delete_all_allowed=allow_delete_all,
                counts=counts,
            )
            neo4j = info.neo4j
            text = f"graphmem {info.graphmem_version}, Neo4j {neo4j.get('version', '?')} at {neo4j.get('address')}, "
            text += f"extractor {status.extractor}" + (" (rule-based fallback)" if status.extractor_is_fallback else "")
            if counts is not None:
                text += f"; scope holds {stats_text(counts)}"
            return _result(status, text)

    @server.tool(
        description="Delete every memory of the scope (entities, facts, turns). Only on a server started "
        "with --allow-delete-all, and only with confirm=true.",
        annotations=ToolAnnotations(destructive_hint=True),
    )
    async def delete_all_memories(
        confirm: Annotated[bool, Field(description="must be true")] = False,
        user_id: UserId = None,
        agent_id: AgentId = None,
        run_id: RunId = None,
    ) -> Annotated[CallToolResult, Deleted]:
        with _tool_errors():
            if not allow_delete_all:
                raise ToolError("delete_all_memories is disabled: the server was not started with --allow-delete-all")
            if not confirm:
                raise ToolError("delete_all_memories deletes the whole scope: call it with confirm=true if you mean it")
            scope = policy.resolve(user_id, agent_id, run_id)
            removed = await memory.delete_all(**scope.params())
            return _result(Deleted(deleted=removed), f"Deleted {removed} nodes of the scope.")

    for name in PROFILES["full"]:
        if name not in PROFILES[profile]:
            server.remove_tool(name)
    return server


def run_stdio(server: MCPServer) -> None:
    """Until the client closes stdin. SIGTERM ends it as SIGINT does: the event loop winds down
    and waits for the worker threads, so an add in flight commits or never started."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        server.run("stdio")
    except KeyboardInterrupt:
        pass


def http_app(server: MCPServer, *, token: str, host: str) -> Any:
    """The streamable HTTP endpoint at /mcp, every request behind the bearer token."""
    return BearerAuth(server.streamable_http_app(host=host), token)


def run_http(server: MCPServer, *, token: str, host: str, port: int) -> None:
    serve_until_signalled(http_app(server, token=token, host=host), host=host, port=port)
