"""`graphmem mcp` as MCP clients meet it, through the official SDK's own client: a spawned
`graphmem mcp --user u` over stdio, and `graphmem mcp --http` over streamable HTTP with its
bearer token, against the real Neo4j. The flags' other branches (--any-user,
--allow-delete-all) run in-process: the same server object and client, without a transport."""

from __future__ import annotations

import asyncio
import signal
import uuid
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from graphmem import AsyncGraphMemory
from graphmem.serve.mcp import build_server
from graphmem.serve.scope_policy import ScopePolicy
from graphmem.store.transport import Store

pytestmark = pytest.mark.neo4j
TOOLS = {
    "add_memory",
    "add_facts",
    "search_memory",
    "get_facts",
    "get_history",
    "delete_fact",
    "get_status",
    "delete_all_memories",
}


def _ok(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert result.content and result.content[0].text  # the short rendering beside the data
    return result.structured_content


def _refused(result: Any) -> str:
    assert result.is_error, result
    return result.content[0].text


async def _conversation(client: Client, user: str) -> None:
    """What an agent does: look at the tools, store, recall, read history, delete."""
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == TOOLS
    assert tools["search_memory"].input_schema["required"] == ["query"]
    assert "description" in tools["search_memory"].input_schema["properties"]["query"]
    assert tools["add_memory"].output_schema and "added" in tools["add_memory"].output_schema["properties"]
    assert tools["search_memory"].annotations.read_only_hint is True

    added = _ok(
        await client.call_tool(
            "add_memory",
            {
                "messages": [{"role": "user", "name": "Dana", "content": "I live in Lisbon and I work at Siemens."}],
                "timestamp": "2025-02-01T09:00:00Z",
            },
        )
    )
    assert {f["relation"] for f in added["added"]} == {"lives_in", "works_at"}
    assert {f["user_id"] for f in added["added"]} == {user}
    _ok(
        await client.call_tool(
            "add_facts", {"triplets": [{"source": "Dana", "relation": "sister_of", "target": "Mira"}]}
        )
    )

    found = await client.call_tool("search_memory", {"query": "Where does Dana work?", "limit": 3})
    payload = _ok(found)
    assert payload["facts"][0]["fact"]["target"] == "Siemens"
    assert payload["episodes"][0]["episode"]["speaker"] == "Dana"
    assert "Siemens" in found.content[0].text  # the rendered context
    # the search options REST has: a relation filter keeps only that relation's facts
    only = _ok(
        await client.call_tool(
            "search_memory", {"query": "Dana", "relations": ["lives_in"], "hops": 1, "mode": "hybrid"}
        )
    )
    assert [h["fact"]["relation"] for h in only["facts"]] == ["lives_in"]

    history = _ok(await client.call_tool("get_history", {"name_or_id": "Dana"}))
    assert {f["relation"] for f in history["facts"]} == {"lives_in", "works_at", "sister_of"}
    job = next(f for f in history["facts"] if f["relation"] == "works_at")
    assert _ok(await client.call_tool("delete_fact", {"fact_id": job["id"]})) == {"deleted": 1}
    assert "no fact" in _refused(await client.call_tool("delete_fact", {"fact_id": job["id"]}))
    left = _ok(await client.call_tool("get_facts", {}))
    assert {f["relation"] for f in left["facts"]} == {"lives_in", "sister_of"}

    status = _ok(await client.call_tool("get_status", {}))
    assert status["counts"]["valid_facts"] == 2 and status["extractor"] == "offline"
    assert status["neo4j"]["version"].startswith("5.")
    assert "limit" in _refused(await client.call_tool("search_memory", {"query": "x", "limit": 0}))


def test_stdio_a_spawned_server_serves_an_agent(shared_env, new_user):
    user = new_user("mcp-stdio")
    params = StdioServerParameters(command=_graphmem(), args=["mcp", "--user", user], env=shared_env)

    async def run() -> None:
        async with Client(params) as client:
            await _conversation(client, user)
            refused = _refused(await client.call_tool("get_facts", {"user_id": "someone-else"}))
            assert "--any-user" in refused

    asyncio.run(run())


def _graphmem() -> str:
    import sys
    from pathlib import Path

    return str(Path(sys.executable).parent / "graphmem")


def test_http_needs_the_token_and_refuses_what_the_flags_do_not_allow(
    spawn, shared_env, new_user, free_tcp_port, wait_for_http, store: Store
):
    user, token = new_user("mcp-http"), "mcp-token-" + uuid.uuid4().hex
    port = free_tcp_port()
    proc = spawn(["mcp", "--http", "--port", str(port), "--user", user], {**shared_env, "GRAPHMEM_API_TOKEN": token})
    url = f"http://127.0.0.1:{port}/mcp"
    wait_for_http(url, proc)

    hello = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        response = httpx.post(url, json=hello, headers={"Accept": "application/json, text/event-stream", **headers})
        assert response.status_code == 401 and response.json()["error"]["type"] == "unauthorized"

    async def run() -> None:
        async with (
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=120) as http,
            Client(streamable_http_client(url, http_client=http)) as client,
        ):
            await _conversation(client, user)
            assert "--any-user" in _refused(await client.call_tool("get_facts", {"user_id": "someone-else"}))
            refused = _refused(await client.call_tool("delete_all_memories", {"confirm": True}))
            assert "--allow-delete-all" in refused
            narrowed = _ok(await client.call_tool("add_memory", {"messages": "I work at Bosch.", "run_id": "r1"}))
            assert {(f["user_id"], f["run_id"]) for f in narrowed["added"]} == {(user, "r1")}

    asyncio.run(run())
    assert store.run("scope_stats", {"user_id": user, "agent_id": None, "run_id": None})[0]["valid_facts"] == 3

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0
    assert "Traceback" not in proc.stderr.read()


def test_any_user_and_delete_all_when_the_server_allows_them(make_memory, new_user):
    owner, other = new_user("mcp-owner"), new_user("mcp-other")
    memory = AsyncGraphMemory(make_memory())
    guarded = build_server(memory, ScopePolicy(user_id=owner, any_user=True), allow_delete_all=True)

    async def run() -> None:
        async with Client(guarded) as client:
            stored = _ok(await client.call_tool("add_memory", {"messages": "I live in Oslo.", "user_id": other}))
            assert {f["user_id"] for f in stored["added"]} == {other}
            assert _ok(await client.call_tool("get_facts", {}))["facts"] == []  # the owner's scope
            assert "confirm" in _refused(await client.call_tool("delete_all_memories", {"user_id": other}))
            assert _ok(await client.call_tool("get_facts", {"user_id": other}))["facts"]
            wiped = _ok(await client.call_tool("delete_all_memories", {"user_id": other, "confirm": True}))
            assert wiped["deleted"] > 0
            assert _ok(await client.call_tool("get_facts", {"user_id": other}))["facts"] == []

    asyncio.run(run())


def test_stdio_speaks_the_handshake_protocol_and_stops_whole_on_sigterm(shared_env, new_user, store: Store):
    """A desktop client of today (the initialize handshake, 2025-06-18), written by hand; then
    SIGTERM with adds in flight: the server exits 0, and each add is stored whole or not at all."""
    import json
    import subprocess
    import time

    user = new_user("mcp-term")
    proc = subprocess.Popen(
        [_graphmem(), "mcp", "--user", user],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=shared_env,
    )

    def send(message: dict) -> None:
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(message) + "\n")
        proc.stdin.flush()

    try:
        hello = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}
        send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": hello})
        assert proc.stdout is not None
        answer = json.loads(proc.stdout.readline())
        assert answer["result"]["serverInfo"]["name"] == "graphmem", answer
        assert answer["result"]["protocolVersion"] == "2025-06-18"
        send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        firms = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark"]
        for i, firm in enumerate(firms):
            call = {"name": "add_memory", "arguments": {"messages": [{"content": f"I work at {firm}.", "id": f"m{i}"}]}}
            send({"jsonrpc": "2.0", "id": 10 + i, "method": "tools/call", "params": call})
        time.sleep(1.0)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err, err
    answered = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert all("error" not in a and not a["result"].get("isError") for a in answered), answered
    rows = store.run_text(
        "MATCH (m:Message {user_id: $u}) OPTIONAL MATCH ()-[f:FACT {user_id: $u}]->() "
        "WHERE m.id IN f.message_ids RETURN m.external_id AS id, count(f) AS facts",
        {"u": user},
    )
    assert len(answered) <= len(rows) <= len(firms)
    assert all(r["facts"] == 1 for r in rows), rows  # whole: each stored turn has its fact


def test_profiles_offer_the_core_tools_or_every_tool(make_memory, new_user, shared_env):
    """`--profile core` is what an assistant needs every turn; `full` (the default) is every tool.
    The core profile spoken to over stdio by a spawned server, the rest in-process."""
    from graphmem import ConfigError

    user = new_user("mcp-profile")
    memory = AsyncGraphMemory(make_memory())
    params = StdioServerParameters(
        command=_graphmem(), args=["mcp", "--user", user, "--profile", "core"], env=shared_env
    )

    async def names(server: Any) -> set[str]:
        async with Client(server) as client:
            return {tool.name for tool in (await client.list_tools()).tools}

    async def core_over_stdio() -> tuple[set[str], str]:
        async with Client(params) as client:
            tools = {tool.name for tool in (await client.list_tools()).tools}
            await client.call_tool("add_memory", {"messages": "I work at Siemens."})
            found = await client.call_tool("search_memory", {"query": "Where do I work?"})
            return tools, found.content[0].text

    tools, context = asyncio.run(core_over_stdio())
    assert tools == {"add_memory", "search_memory", "get_facts"} and "Siemens" in context
    assert asyncio.run(names(build_server(memory, ScopePolicy(user_id=user)))) == TOOLS
    assert asyncio.run(names(build_server(memory, ScopePolicy(user_id=user), profile="full"))) == TOOLS
    with pytest.raises(ConfigError, match="unknown MCP profile 'tiny'"):
        build_server(memory, ScopePolicy(user_id=user), profile="tiny")


def test_an_add_past_the_scopes_bound_is_a_tool_error_saying_to_retry(make_memory, new_user):
    """While one add of the scope waits on its model, a second one (the bound: 1) is refused
    with a tool error the model can act on, and stores nothing; the first is stored."""
    import threading

    from graphmem.llm import OfflineLLM

    user = new_user("mcp-busy")
    answer = threading.Event()

    class HeldLLM(OfflineLLM):
        def extract_entities(self, source, usage):  # the model, thinking
            answer.wait(60)
            return super().extract_entities(source, usage)

    memory = AsyncGraphMemory(make_memory(llm=HeldLLM()))
    memory.lanes.max_pending_per_scope = 1
    server = build_server(memory, ScopePolicy(user_id=user))

    async def run() -> None:
        async with Client(server) as client:
            first = asyncio.create_task(client.call_tool("add_memory", {"messages": "I live in Oslo."}))
            while memory.lanes.pending == 0:
                await asyncio.sleep(0.02)
            refusal = _refused(await client.call_tool("add_memory", {"messages": "I work at Siemens."}))
            assert "retry in" in refusal and "GRAPHMEM_MAX_PENDING_PER_SCOPE=1" in refusal
            answer.set()
            stored = _ok(await first)
            assert [f["target"] for f in stored["added"]] == ["Oslo"]
            facts = _ok(await client.call_tool("get_facts", {}))["facts"]
            assert [f["target"] for f in facts] == ["Oslo"]

    asyncio.run(run())
