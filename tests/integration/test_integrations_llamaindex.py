"""The LlamaIndex memory block against the real Neo4j, driven as a user drives it: a
`Memory.from_defaults(...)` holding the block, with a token limit small enough that a few
`put`s flush the oldest turns into it, then `Memory.get` (and a SimpleChatEngine over MockLLM,
which echoes its prompt) showing what graphmem found. Offline: the tokenizer is `str.split`."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator

import llama_index.core
import pytest
from llama_index.core import Settings
from llama_index.core.base.llms.types import ChatMessage, MessageRole, TextBlock, ToolCallBlock
from llama_index.core.chat_engine import SimpleChatEngine
from llama_index.core.llms import MockLLM
from llama_index.core.memory import InsertMethod, Memory

from graphmem import AsyncGraphMemory, GraphMemory, InputError
from graphmem.integrations.llamaindex import GraphmemMemoryBlock

pytestmark = pytest.mark.neo4j


@pytest.fixture(autouse=True)
def offline_tokenizer() -> Iterator[None]:
    """LlamaIndex's default tokenizer is tiktoken, which downloads its tables: count words instead."""
    saved = llama_index.core.global_tokenizer
    Settings.tokenizer = str.split
    yield
    llama_index.core.global_tokenizer = saved


def _memory(block: GraphmemMemoryBlock, **kwargs: object) -> Memory:
    """A short-term queue of 15 words (30 * 0.5): the third turn below flushes the first two."""
    return Memory.from_defaults(
        session_id=f"chat-{uuid.uuid4().hex[:8]}",
        memory_blocks=[block],
        token_limit=30,
        chat_history_token_ratio=0.5,
        token_flush_size=5,
        tokenizer_fn=str.split,
        **kwargs,  # type: ignore[arg-type]
    )


def _chat(said: str) -> list[ChatMessage]:
    return [
        ChatMessage(role="user", content=said),
        ChatMessage(role="assistant", content="Good to know, thank you for telling me."),
        ChatMessage(role="user", content="What is the weather like today?"),
    ]


def _system(messages: list[ChatMessage]) -> str:
    assert messages[0].role == MessageRole.SYSTEM, messages
    return messages[0].content or ""


def test_flushed_turns_are_recalled_in_scope(memory: GraphMemory, new_user: Callable[..., str]) -> None:
    alice, bob = new_user(), new_user()
    alice_chat = _memory(GraphmemMemoryBlock(memory, user_id=alice))
    for message in _chat("I work at Siemens."):
        alice_chat.put(message)
    # the first two turns left the short-term queue for graphmem
    assert [m.content for m in alice_chat.get_all()][-1] == "What is the weather like today?"
    assert memory.stats(user_id=alice).messages == 2
    stored = memory.search("where do I work", user_id=alice)
    assert "Siemens" in stored.to_context()

    context = _system(alice_chat.get("Where do I work?"))
    assert "<graphmem>" in context and "Siemens" in context
    assert "Siemens" in context.split("<graphmem>")[1]

    # a later session of the same user, its short-term queue empty, recalls it too
    later = _memory(GraphmemMemoryBlock(memory, user_id=alice))
    assert "Siemens" in _system(later.get("Where do I work?"))

    # another user's memory neither sees it nor is seen
    bob_chat = _memory(GraphmemMemoryBlock(memory, user_id=bob))
    assert not any("Siemens" in (m.content or "") for m in bob_chat.get("Where do I work?"))
    for message in _chat("I work at Bosch."):
        bob_chat.put(message)
    bob_context = _system(bob_chat.get("Where do I work?"))
    assert "Bosch" in bob_context and "Siemens" not in bob_context
    assert "Bosch" not in _system(alice_chat.get("Where do I work?"))

    # nothing found: the block is left out, no empty <memory> section
    empty = _memory(GraphmemMemoryBlock(memory, user_id=new_user()))
    assert empty.get("Where do I work?") == []


def test_async_memory_skips_what_is_not_a_turn(memory: GraphMemory, new_user: Callable[..., str]) -> None:
    user = new_user()
    block = GraphmemMemoryBlock(AsyncGraphMemory(memory), user_id=user, agent_id="planner", user_name="Carol")
    assert block.scope.params() == {"user_id": user, "agent_id": "planner", "run_id": None}

    async def run() -> list[ChatMessage]:
        chat = _memory(block, insert_method=InsertMethod.USER)
        await chat.aput_messages(
            [
                ChatMessage(role="system", content="You are a helpful assistant with a long memory."),
                ChatMessage(role="user", content="I live in Lisbon."),
                ChatMessage(
                    role="assistant",
                    blocks=[ToolCallBlock(tool_call_id="c1", tool_name="weather", tool_kwargs={"city": "Lisbon"})],
                ),
                ChatMessage(role="tool", content="sunny, 24 degrees", additional_kwargs={"tool_call_id": "c1"}),
                ChatMessage(role="assistant", blocks=[TextBlock(text="Lisbon is lovely.")]),
                ChatMessage(role="user", content="Tell me something about the city where I live, please."),
            ]
        )
        return await chat.aget()

    messages = asyncio.run(run())
    assert memory.stats(user_id=user, agent_id="planner").messages == 2  # the user's and the assistant's text
    stored = memory.search("where does carol live", user_id=user, agent_id="planner")
    turns = {e.episode.role: e.episode for e in stored.episodes}
    assert set(turns) <= {"user", "assistant"} and turns["user"].speaker == "Carol"
    assert "Lisbon" in stored.to_context()
    # InsertMethod.USER: the memory goes into the latest user message
    last = messages[-1]
    assert last.role == MessageRole.USER and "Lisbon" in (last.content or "")


def test_chat_engine_answers_with_memory(memory: GraphMemory, new_user: Callable[..., str]) -> None:
    """A SimpleChatEngine over MockLLM (which answers with the prompt it was given): the prompt
    of a later session holds what an earlier one flushed into graphmem."""
    user = new_user()
    first = SimpleChatEngine.from_defaults(llm=MockLLM(), memory=_memory(GraphmemMemoryBlock(memory, user_id=user)))
    first.chat("I work at Siemens.")
    first.chat("What is the weather like today?")  # the queue overflows: the first exchange is flushed
    assert memory.stats(user_id=user).messages == 2  # "I work at Siemens." and the echoed answer

    later = SimpleChatEngine.from_defaults(llm=MockLLM(), memory=_memory(GraphmemMemoryBlock(memory, user_id=user)))
    answer = later.chat("Where do I work?")
    assert "Siemens" in answer.response


def test_block_construction(memory: GraphMemory) -> None:
    with pytest.raises(InputError, match="at least one"):
        GraphmemMemoryBlock(memory)
    with pytest.raises(TypeError, match="GraphMemory"):
        GraphmemMemoryBlock("not a memory", user_id="alice")  # type: ignore[arg-type]
    block = GraphmemMemoryBlock(memory, run_id="r1", name="longterm", max_tokens=100)
    assert (block.name, block.max_tokens, block.scope.run_id) == ("longterm", 100, "r1")
    assert asyncio.run(block.aget([])) == ""
