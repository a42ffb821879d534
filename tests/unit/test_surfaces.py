"""Every surface takes every search option: the Python API, REST, MCP and the CLI. The options
are graphmem/_requests.SearchOptions' fields; a surface that lacks one fails here, naming it.
Pure: the servers are built, never started, and no Neo4j is reached."""

from __future__ import annotations

import asyncio
import inspect
from types import SimpleNamespace
from typing import Any

import typer.main

from graphmem import AsyncGraphMemory, GraphMemory, load_settings
from graphmem._lanes import Lanes
from graphmem._requests import SearchOptions
from graphmem.cli import app
from graphmem.serve.mcp import build_server
from graphmem.serve.rest import create_app
from graphmem.serve.scope_policy import ScopePolicy

OPTIONS = set(SearchOptions.model_fields)


def test_the_options_are_the_ones_a_search_takes() -> None:
    assert {"limit", "mode", "episodes", "hops", "as_of", "include_invalidated", "entity_types", "relations"} <= OPTIONS


def test_the_python_api_takes_every_option() -> None:
    for cls in (GraphMemory, AsyncGraphMemory):
        missing = OPTIONS - set(inspect.signature(cls.search).parameters)
        assert not missing, f"{cls.__name__}.search lacks {sorted(missing)}"


def test_rest_takes_every_option() -> None:
    memory: Any = SimpleNamespace(lanes=Lanes.from_settings(load_settings()))  # no route is called
    schema = create_app(memory, token="t").openapi()
    body = schema["paths"]["/v1/search"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    fields = set(schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]["properties"])
    assert not OPTIONS - fields, f"POST /v1/search lacks {sorted(OPTIONS - fields)}"


def test_mcp_search_memory_takes_every_option() -> None:
    memory: Any = object()  # build_server only keeps it: no tool is called
    server = build_server(memory, ScopePolicy(user_id="u"), profile="full")
    tools = {tool.name: tool for tool in asyncio.run(server.list_tools())}
    fields = set(tools["search_memory"].input_schema["properties"])
    assert not OPTIONS - fields, f"search_memory lacks {sorted(OPTIONS - fields)}"


def test_the_cli_takes_every_option() -> None:
    command = typer.main.get_command(app)
    search = command.commands["search"]  # type: ignore[attr-defined]
    fields = {param.name for param in search.params}
    assert not OPTIONS - fields, f"graphmem search lacks {sorted(OPTIONS - fields)}"
