"""The Pydantic AI toolset and the OpenAI Agents SDK tools against the real Neo4j, through each
framework's own machinery: a Pydantic AI Agent driven by FunctionModel (no network), and the
SDK's FunctionTools invoked as its runner invokes them (`on_invoke_tool` with a ToolContext),
then a whole Runner turn driven by the SDK's ScriptedModel."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import pytest
from agents import Agent as OAAgent
from agents import FunctionTool, RunConfig, Runner, Tool, ToolCallOutputItem
from agents.testing import ScriptedModel, assistant_message, function_call
from agents.tool_context import ToolContext
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, RetryPromptPart, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from graphmem import AsyncGraphMemory, ConfigError, GraphMemory, Scope
from graphmem.integrations.openai_agents import memory_tools
from graphmem.integrations.pydantic_ai import memory_toolset

pytestmark = pytest.mark.neo4j


@dataclass
class Deps:
    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None


def _tool_returns(messages: list[ModelMessage]) -> dict[str, list[str]]:
    returns: dict[str, list[str]] = {}
    for message in messages:
        for part in message.parts:
            if isinstance(part, ToolReturnPart):
                returns.setdefault(part.tool_name, []).append(str(part.content))
    return returns


def _scripted(save: str | None, query: str) -> FunctionModel:
    """A model that saves `save` (when given), then searches `query`, then answers with what the
    search returned."""

    def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        assert {tool.name for tool in info.function_tools} == {"search_memory", "save_memory"}
        for tool in info.function_tools:  # the scope is not the model's to choose
            assert set(tool.parameters_json_schema["properties"]) <= {"query", "text"}
        returns = _tool_returns(messages)
        if save is not None and "save_memory" not in returns:
            return ModelResponse(parts=[ToolCallPart("save_memory", {"text": save})])
        if "search_memory" not in returns:
            return ModelResponse(parts=[ToolCallPart("search_memory", {"query": query})])
        return ModelResponse(parts=[TextPart(returns["search_memory"][-1])])

    return FunctionModel(model)


def test_pydantic_ai_agent_saves_and_recalls_in_the_deps_scope(memory: GraphMemory, new_user) -> None:
    alice, bob = new_user("pai-alice"), new_user("pai-bob")
    agent = Agent(deps_type=Deps, toolsets=[memory_toolset(memory)])

    saved = agent.run_sync(
        "remember where I live", deps=Deps(user_id=alice), model=_scripted("I live in Lisbon", "where do I live")
    )
    assert "lisbon" in saved.output.lower()
    save_return = _tool_returns(saved.all_messages())["save_memory"][0]
    assert "1 added" in save_return and "id=" in save_return

    facts = memory.get_all(user_id=alice)
    assert [f.target.lower() for f in facts] == ["lisbon"]
    assert memory.get_all(user_id=bob) == []

    # bob's run sees nothing of alice's, and stores into his own scope
    bob_run = agent.run_sync("where do I live", deps=Deps(user_id=bob), model=_scripted(None, "where do I live"))
    assert "lisbon" not in bob_run.output.lower()
    assert bob_run.output == "No memories found."
    agent.run_sync("remember", deps=Deps(user_id=bob), model=_scripted("I live in Oslo", "where do I live"))
    assert [f.target.lower() for f in memory.get_all(user_id=bob)] == ["oslo"]
    assert [f.target.lower() for f in memory.get_all(user_id=alice)] == ["lisbon"]

    again = agent.run_sync("where do I live", deps=Deps(user_id=alice), model=_scripted(None, "where do I live"))
    assert "lisbon" in again.output.lower() and "oslo" not in again.output.lower()


def test_pydantic_ai_async_memory_and_scope_mapping(memory: GraphMemory, new_user) -> None:
    """AsyncGraphMemory is used as is; scope= maps any deps to a Scope; a fixed Scope ignores the deps."""
    user = new_user("pai-async")
    async_memory = AsyncGraphMemory(memory)

    @dataclass
    class Account:
        account: str

    mapped = Agent(
        deps_type=Account,
        toolsets=[memory_toolset(async_memory, scope=lambda deps: Scope(user_id=deps.account, agent_id="helper"))],
    )

    async def run() -> str:
        result = await mapped.run(
            "remember", deps=Account(account=user), model=_scripted("I work at Acme", "where do I work")
        )
        return result.output

    assert "acme" in asyncio.run(run()).lower()
    [fact] = memory.get_all(user_id=user, agent_id="helper")
    assert fact.user_id == user and fact.agent_id == "helper" and fact.target.lower() == "acme"

    fixed = Agent(toolsets=[memory_toolset(memory, scope=Scope(user_id=user, agent_id="helper"))])
    assert "acme" in fixed.run_sync("?", model=_scripted(None, "where do I work")).output.lower()

    # deps given as a mapping name the scope too
    as_dict = Agent(deps_type=dict, toolsets=[memory_toolset(memory)])
    out = as_dict.run_sync("?", deps={"user_id": user, "agent_id": "helper"}, model=_scripted(None, "where do I work"))
    assert "acme" in out.output.lower()


def test_pydantic_ai_deps_without_scope_fail_the_run(memory: GraphMemory) -> None:
    agent = Agent(deps_type=Deps, toolsets=[memory_toolset(memory)])
    with pytest.raises(ConfigError, match="names no scope"):
        agent.run_sync("?", deps=Deps(), model=_scripted(None, "anything"))
    with pytest.raises(ConfigError, match="names no scope"):
        Agent(toolsets=[memory_toolset(memory)]).run_sync("?", model=_scripted(None, "anything"))


def test_pydantic_ai_bad_argument_goes_back_to_the_model(memory: GraphMemory, new_user) -> None:
    """An empty text is the model's mistake: it gets graphmem's message as a retry prompt."""
    user = new_user("pai-retry")
    seen: list[str] = []

    def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        # a retry prompt is a RetryPromptPart, or (newer releases) a ToolReturnPart marked retried
        answers = [p for m in messages for p in m.parts if isinstance(p, (RetryPromptPart, ToolReturnPart))]
        if not answers:
            return ModelResponse(parts=[ToolCallPart("save_memory", {"text": "   "})])
        seen.append(str(answers[0].content))
        return ModelResponse(parts=[TextPart("sorry")])

    agent = Agent(deps_type=Deps, toolsets=[memory_toolset(memory)])
    assert agent.run_sync("?", deps=Deps(user_id=user), model=FunctionModel(model)).output == "sorry"
    assert seen and "empty" in seen[0].lower()
    assert memory.get_all(user_id=user) == []


# -- OpenAI Agents SDK ---------------------------------------------------------------------


async def _invoke(tool: FunctionTool, context: Any, arguments: dict[str, Any], call_id: str = "call-1") -> str:
    """A FunctionTool called as the SDK's runner calls it."""
    args = json.dumps(arguments)
    ctx = ToolContext(context=context, tool_name=tool.name, tool_call_id=call_id, tool_arguments=args)
    output = await tool.on_invoke_tool(ctx, args)
    assert isinstance(output, str)
    return output


def _tools_by_name(tools: list[Tool]) -> dict[str, FunctionTool]:
    by_name = {tool.name: tool for tool in tools if isinstance(tool, FunctionTool)}
    assert set(by_name) == {"search_memory", "save_memory"}
    for tool in tools:  # the scope is not the model's to choose
        assert set(tool.params_json_schema["properties"]) <= {"query", "text"}
        assert tool.strict_json_schema
    return by_name


def test_openai_agents_tools_bound_to_a_scope(memory: GraphMemory, new_user) -> None:
    alice, bob = new_user("oa-alice"), new_user("oa-bob")
    for_alice = _tools_by_name(memory_tools(memory, user_id=alice))
    for_bob = _tools_by_name(memory_tools(AsyncGraphMemory(memory), user_id=bob))

    async def run() -> None:
        saved = await _invoke(for_alice["save_memory"], None, {"text": "I live in Porto"})
        assert "1 added" in saved and "id=" in saved
        # the run context cannot move bound tools to another scope
        found = await _invoke(for_alice["search_memory"], {"user_id": bob}, {"query": "where do I live"})
        assert "porto" in found.lower()
        assert await _invoke(for_bob["search_memory"], None, {"query": "where do I live"}) == "No memories found."
        await _invoke(for_bob["save_memory"], None, {"text": "I live in Bergen"})
        bob_found = await _invoke(for_bob["search_memory"], None, {"query": "where do I live"})
        assert "bergen" in bob_found.lower() and "porto" not in bob_found.lower()
        # a bad argument comes back to the model as the tool's output
        refused = await _invoke(for_alice["save_memory"], None, {"text": " "})
        assert refused.startswith("Error: ") and "empty" in refused
        # a text without a fact the extractor sees is still kept, as a turn search finds
        kept = await _invoke(for_bob["save_memory"], None, {"text": "The blue notebook is on the kitchen shelf"})
        assert kept.startswith("No fact was extracted")
        turn = await _invoke(for_bob["search_memory"], None, {"query": "where is the blue notebook"})
        assert "kitchen shelf" in turn

    asyncio.run(run())
    assert [f.target.lower() for f in memory.get_all(user_id=alice)] == ["porto"]
    assert [f.target.lower() for f in memory.get_all(user_id=bob)] == ["bergen"]


def test_openai_agents_tools_in_the_run_context_scope(memory: GraphMemory, new_user) -> None:
    alice, bob = new_user("oa-ctx-alice"), new_user("oa-ctx-bob")
    tools = _tools_by_name(memory_tools(memory))

    async def run() -> None:
        await _invoke(tools["save_memory"], Deps(user_id=alice, agent_id="travel"), {"text": "I work at Initech"})
        await _invoke(tools["save_memory"], {"user_id": bob}, {"text": "I work at Globex"})
        alice_found = await _invoke(tools["search_memory"], Deps(user_id=alice, agent_id="travel"), {"query": "work"})
        assert "initech" in alice_found.lower() and "globex" not in alice_found.lower()
        bob_found = await _invoke(tools["search_memory"], Deps(user_id=bob), {"query": "where do I work"})
        assert "globex" in bob_found.lower() and "initech" not in bob_found.lower()
        with pytest.raises(ConfigError, match="names no scope"):
            await _invoke(tools["search_memory"], None, {"query": "where do I work"})

    asyncio.run(run())
    [fact] = memory.get_all(user_id=alice)
    assert (fact.user_id, fact.agent_id, fact.target.lower()) == (alice, "travel", "initech")
    assert [f.target.lower() for f in memory.get_all(user_id=bob)] == ["globex"]


def test_openai_agents_runner_turn_with_scripted_model(memory: GraphMemory, new_user) -> None:
    """A whole Runner turn: the SDK's ScriptedModel calls save_memory then search_memory."""
    user = new_user("oa-runner")
    model = ScriptedModel(
        [
            [function_call("save_memory", {"text": "I live in Tallinn"}, call_id="c1")],
            [function_call("search_memory", {"query": "where do I live"}, call_id="c2")],
            [assistant_message("You live in Tallinn.")],
        ]
    )
    agent = OAAgent(name="assistant", model=model, tools=memory_tools(memory))
    result = asyncio.run(
        Runner.run(agent, "remember me", context=Deps(user_id=user), run_config=RunConfig(tracing_disabled=True))
    )
    outputs = [item.output for item in result.new_items if isinstance(item, ToolCallOutputItem)]
    assert len(outputs) == 2 and "1 added" in outputs[0] and "tallinn" in outputs[1].lower()
    assert result.final_output == "You live in Tallinn."
    assert [f.target.lower() for f in memory.get_all(user_id=user)] == ["tallinn"]


@pytest.mark.parametrize(("module", "extra"), [("pydantic_ai", "pydantic-ai"), ("openai_agents", "openai-agents")])
def test_a_missing_framework_names_its_extra(module: str, extra: str) -> None:
    framework = {"pydantic_ai": "pydantic_ai", "openai_agents": "agents"}[module]
    code = (
        f"import sys; sys.modules[{framework!r}] = None\n"
        "from graphmem import ConfigError\n"
        "try:\n"
        f"    import graphmem.integrations.{module}\n"
        "except ConfigError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert f'pip install "graphmem[{extra}]"' in out.stdout, out.stderr
