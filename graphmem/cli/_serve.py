"""`graphmem mcp` and `graphmem serve`: the memory for agents, over MCP and over HTTP."""

from __future__ import annotations

import logging
import threading
from typing import Annotated

import typer

from .._errors import InputError
from .._memory import AsyncGraphMemory
from .._settings import Settings
from ..embed import Embedder, LazyEmbedder
from ._common import clean_errors, console, open_memory, settings
from ._memory import AgentOpt, RunOpt, UserOpt

log = logging.getLogger("graphmem")

HostOpt = Annotated[
    str, typer.Option("--host", help="Address to listen on (a non-loopback one needs GRAPHMEM_API_TOKEN).")
]


def _token(cfg: Settings, host: str) -> str:
    from ..serve.auth import api_token, check_bind

    check_bind(host, cfg)
    token, where = api_token(cfg)
    console.print(f"Clients authenticate with `Authorization: Bearer <token>`; the token is in {where}.")
    return token


def mcp(
    user: UserOpt = None,
    agent: AgentOpt = None,
    run: RunOpt = None,
    any_user: Annotated[bool, typer.Option("--any-user", help="Let tool calls name any user_id.")] = False,
    allow_delete_all: Annotated[
        bool, typer.Option("--allow-delete-all", help="Enable the delete_all_memories tool (it still needs confirm).")
    ] = False,
    http: Annotated[bool, typer.Option("--http", help="Serve streamable HTTP at /mcp instead of stdio.")] = False,
    profile: Annotated[
        str,
        typer.Option(
            "--profile",
            help="Tools offered: core (add_memory, search_memory, get_facts: what an assistant needs every turn) "
            "or full (every tool).",
        ),
    ] = "full",
    host: HostOpt = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="HTTP port.")] = 8765,
) -> None:
    """Serve the memory as MCP tools (stdio by default, for desktop clients).

    Stdio, in Claude Desktop's or Cursor's config:
    {"mcpServers": {"graphmem": {"command": "graphmem", "args": ["mcp", "--user", "me"]}}}

    HTTP (--http): the client connects to http://127.0.0.1:8765/mcp with the header
    Authorization: Bearer <token> (GRAPHMEM_API_TOKEN, or the file named at start).

    Tools (--profile full, the default): add_memory, add_facts, search_memory, get_facts,
    get_history, delete_fact, get_status, delete_all_memories; --profile core: add_memory,
    search_memory, get_facts. The scope is --user/--agent/--run; a call may narrow
    it (a run_id), and name another user only with --any-user.
    """
    from .._version import __version__
    from ..serve.mcp import PROFILES, build_server, run_http, run_stdio
    from ..serve.scope_policy import ScopePolicy

    with clean_errors():
        if profile not in PROFILES:
            raise InputError(f"--profile {profile!r}: use one of {', '.join(PROFILES)}")
        policy = ScopePolicy(user_id=user, agent_id=agent, run_id=run, any_user=any_user)
        cfg = settings()
        token = _token(cfg, host) if http else ""
        memory = AsyncGraphMemory(open_memory(cfg, start_managed=True, search_cache=True))
        server = build_server(memory, policy, allow_delete_all=allow_delete_all, version=__version__, profile=profile)
        load_in_background(memory.sync.embedder)
        try:
            if http:
                console.print(f"graphmem MCP server at http://{host}:{port}/mcp (Ctrl-C stops it)")
                run_http(server, token=token, host=host, port=port)
            else:
                run_stdio(server)
        finally:
            memory.sync.close()


def serve(
    host: HostOpt = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="HTTP port.")] = 8080,
    max_body: Annotated[int, typer.Option("--max-body", help="Largest request body in bytes.")] = 1 << 20,
) -> None:
    """Serve the memory as a REST API (FastAPI + uvicorn); OpenAPI docs at /docs.

    Every endpoint but /healthz needs the header Authorization: Bearer <token>
    (GRAPHMEM_API_TOKEN, or the file named at start), e.g.

    curl -H "Authorization: Bearer $(cat ~/.cache/graphmem/api-token)" -H "content-type: application/json"
    -d '{"query": "where does alice work?", "user_id": "alice"}' http://127.0.0.1:8080/v1/search
    """
    from ..serve.asgi import serve_until_signalled
    from ..serve.rest import create_app

    with clean_errors():
        cfg = settings()
        token = _token(cfg, host)
        memory = AsyncGraphMemory(open_memory(cfg, start_managed=True, search_cache=True))
        app = create_app(memory, token=token, max_body_bytes=max_body)
        load_in_background(memory.sync.embedder)
        console.print(f"graphmem REST API at http://{host}:{port} (docs at /docs; Ctrl-C stops it)")
        serve_until_signalled(app, host=host, port=port)  # the app's shutdown closes the memory


def load_in_background(embedder: Embedder) -> None:
    """Loads the model while the server starts answering: the client's `initialize` does not
    wait for it, and its first search usually finds it loaded (a search that comes first
    waits for the same load). A failed load is left to that first use, which reports it."""
    if isinstance(embedder, LazyEmbedder) and not embedder.loaded:

        def load() -> None:
            try:
                embedder.load()
            except Exception as exc:  # reported again, with its fix, by the first embed
                log.info("embedder: background load failed (%s)", exc)

        threading.Thread(target=load, name="graphmem-embedder-load", daemon=True).start()
