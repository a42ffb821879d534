"""graphmem as a LlamaIndex memory block: long-term memory for `llama_index.core.memory.Memory`.

    from llama_index.core.memory import Memory
    from graphmem.integrations.llamaindex import GraphmemMemoryBlock

    chat_memory = Memory.from_defaults(
        session_id="alice-chat-1",
        memory_blocks=[GraphmemMemoryBlock(memory, user_id="alice")],
        token_limit=40_000,
    )
    agent = FunctionAgent(llm=llm, tools=[...])  # or SimpleChatEngine.from_defaults(memory=chat_memory)
    await agent.run("Where do I work?", memory=chat_memory)

`Memory` keeps the recent conversation itself (its short-term FIFO queue); when the queue grows
past `token_limit * chat_history_token_ratio`, the oldest turns (about `token_flush_size` tokens,
whole user turns) are flushed out of it into its memory blocks. This block:

- **put** (`_aput`, the flushed messages): writes them to graphmem as one `memory.add([...])` of
  turns (`{"role", "content"}`, `name` = `user_name` on user turns when given), so their facts are
  extracted and merged (a fact they contradict is invalidated). User and assistant turns are kept
  (LlamaIndex's `chatbot` and `model` roles count as assistant); system, developer, tool and
  function messages are not conversation turns and are skipped, as are messages with no text (an
  assistant message holding only tool calls, an image). Only the text blocks of a message are read.
- **get** (`_aget`, on every `Memory.get` / `aget`): searches graphmem with the latest user
  message's text (with none, the text of the last messages) and returns
  `SearchResults.to_context(max_tokens=...)`: dated facts, then the relevant stored turns; an empty
  string (the block is left out) when nothing is found. `Memory` puts it into the system message
  (or the latest user message, `insert_method=InsertMethod.USER`) inside `<memory><graphmem>...`.

**Scope.** `GraphmemMemoryBlock(memory, user_id=..., agent_id=..., run_id=...)` binds the block to
that scope (at least one id) at construction: every put writes into it and every get reads only
it, whatever the session. The model never chooses it. `Memory`'s `session_id` is LlamaIndex's own
key of the short-term queue; it does not narrow graphmem's scope (give `run_id=` for that).

`memory` is an AsyncGraphMemory (used as is) or a GraphMemory (each call runs in a worker thread,
so the event loop never blocks on Neo4j or the extractor). Errors are not swallowed: a flush whose
extraction fails raises out of `Memory.put`, rather than losing the turns silently.
"""

from __future__ import annotations

from typing import Any

from .._memory import AsyncGraphMemory, GraphMemory
from .._models import Scope
from ..search.recipes import DEFAULT_EPISODES
from ._require import require
from ._tools import add, search

require("llama_index.core", extra="llamaindex")

from llama_index.core.base.llms.types import ChatMessage, MessageRole, TextBlock  # noqa: E402
from llama_index.core.bridge.pydantic import Field, PrivateAttr  # noqa: E402
from llama_index.core.memory.memory import BaseMemoryBlock  # noqa: E402

__all__ = ["GraphmemMemoryBlock"]

#: LlamaIndex roles stored as graphmem turns, and the graphmem role each becomes
_TURN_ROLES = {
    MessageRole.USER: "user",
    MessageRole.ASSISTANT: "assistant",
    MessageRole.CHATBOT: "assistant",
    MessageRole.MODEL: "assistant",
}


class GraphmemMemoryBlock(BaseMemoryBlock[str]):
    """Long-term memory of one graphmem scope as a `Memory` block (see the module docstring).

    `max_tokens` bounds the text a get returns; `limit` and `episodes` are `GraphMemory.search`'s
    (facts and stored turns); `query_messages`: how many last messages make the query when no
    user message has text; `user_name`: the speaker name given to user turns (helps the extractor
    say who "I" is)."""

    name: str = Field(default="graphmem", description="The name of the memory block.")
    description: str | None = Field(
        default="Long-term memory (graphmem): dated facts about the user and relevant past turns."
    )
    memory: GraphMemory | AsyncGraphMemory
    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None
    max_tokens: int = Field(default=2000, gt=0)
    limit: int = Field(default=10, gt=0)
    episodes: int = Field(default=DEFAULT_EPISODES, ge=0)
    query_messages: int = Field(default=3, gt=0)
    user_name: str | None = None

    _scope: Scope = PrivateAttr()

    def __init__(
        self,
        memory: GraphMemory | AsyncGraphMemory,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(memory, (GraphMemory, AsyncGraphMemory)):
            raise TypeError(f"expected a GraphMemory or an AsyncGraphMemory, got {type(memory).__name__}")
        scope = Scope(user_id=user_id, agent_id=agent_id, run_id=run_id)  # at least one id, each storable
        fields: dict[str, Any] = {"memory": memory, "user_id": user_id, "agent_id": agent_id, "run_id": run_id}
        super().__init__(**fields, **kwargs)  # this class's fields: the base's typed __init__ does not name them
        self._scope = scope

    @property
    def scope(self) -> Scope:
        return self._scope

    async def _aget(self, messages: list[ChatMessage] | None = None, **block_kwargs: Any) -> str:
        """What graphmem holds about the conversation's latest user message, as context text."""
        query = _query(messages or [], self.query_messages)
        if not query:
            return ""
        results = await search(self.memory, query, self._scope, limit=self.limit, episodes=self.episodes)
        return results.to_context(max_tokens=self.max_tokens)

    async def _aput(self, messages: list[ChatMessage]) -> None:
        """The messages flushed out of short-term memory, stored as graphmem turns."""
        turns = [turn for turn in (self._turn(m) for m in messages) if turn is not None]
        if turns:
            await add(self.memory, turns, self._scope)

    def _turn(self, message: ChatMessage) -> dict[str, str] | None:
        role = _TURN_ROLES.get(message.role)
        text = _text(message)
        if role is None or not text:
            return None
        turn = {"role": role, "content": text}
        if role == "user" and self.user_name:
            turn["name"] = self.user_name
        return turn


def _text(message: ChatMessage) -> str:
    """The text of a message's text blocks (images, tool calls and the like are not read)."""
    return "\n".join(b.text for b in message.blocks if isinstance(b, TextBlock) and b.text.strip()).strip()


def _query(messages: list[ChatMessage], window: int) -> str:
    for message in reversed(messages):
        if message.role == MessageRole.USER and (text := _text(message)):
            return text
    return " ".join(t for t in map(_text, messages[-window:]) if t)
