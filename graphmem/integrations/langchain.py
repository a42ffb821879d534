"""LangChain tools and retriever over graphmem.

    tools = memory_tools(memory, user_id="alice")  # [save_memory, search_memory]
    retriever = GraphmemRetriever(memory=memory, user_id="alice", k=5)
    retriever.invoke("where does alice live")  # -> list[Document], one per fact

**Scope.** Both are bound to the scope they are built with (`user_id`, `agent_id`, `run_id`, at
least one); the scope is not a tool argument, so a model calling the tools cannot read or write
another scope.

- `save_memory(text)` is `GraphMemory.add(text)`: the text is stored as a turn and its facts are
  extracted and merged (a fact it contradicts is invalidated). It answers with what changed.
- `search_memory(query)` is `GraphMemory.search(query)` (the default mode, no LLM call), answered
  as `SearchResults.to_context()`: dated facts, then the relevant stored turns.
- `GraphmemRetriever` returns one `Document` per fact hit: `page_content` is the fact sentence,
  `id` the fact id, `metadata` holds `id`, `relation`, `source`, `target`, `source_id`,
  `target_id`, `valid_from`, `valid_to` (ISO 8601; None while the fact holds), `valid`,
  `invalidated_by`, `message_ids` (the turns it was said in), `score` and `via` (the facts chained
  before it).

A `GraphMemory` runs in the caller's thread (async calls in a worker thread); an
`AsyncGraphMemory` serves the async calls through its coroutines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, model_validator

from .._memory import AsyncGraphMemory, GraphMemory
from .._models import AddResult, Fact, Scope
from ..search.results import SearchHit, SearchResults
from ._require import require
from ._tools import add, search

if TYPE_CHECKING:
    from langchain_core.callbacks import AsyncCallbackManagerForRetrieverRun, CallbackManagerForRetrieverRun
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever
    from langchain_core.tools import BaseTool, StructuredTool
else:
    require("langchain_core", extra="langchain")
    from langchain_core.callbacks import AsyncCallbackManagerForRetrieverRun, CallbackManagerForRetrieverRun
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever
    from langchain_core.tools import BaseTool, StructuredTool

__all__ = ["GraphmemRetriever", "memory_tools"]

SAVE_DESCRIPTION = (
    "Save something worth remembering about the user or the conversation in long-term memory: facts, "
    "preferences, plans, relationships, changes ('I moved to London'). Call it when the user tells you "
    "something that should still be known in later conversations; write it as a plain first-person or "
    "third-person statement. What contradicts an earlier memory replaces it (the old one is kept as no "
    "longer true). Returns the facts that were added, updated or made no longer true."
)
SEARCH_DESCRIPTION = (
    "Search long-term memory before answering anything that depends on what you were told in earlier "
    "conversations (who someone is, where they live or work, what they like, what changed). Give a "
    "natural-language question or a few keywords. Returns the facts true now, dated and most relevant "
    "first, then the stored conversation turns that match (an older turn may say what has changed since: "
    "trust the facts); 'Nothing relevant is remembered.' when there is none."
)


class _SaveInput(BaseModel):
    text: str = Field(description="What to remember, as a statement, e.g. 'Alice moved to London in May.'")


class _SearchInput(BaseModel):
    query: str = Field(description="A question or keywords, e.g. 'where does Alice live'")


def memory_tools(
    memory: GraphMemory | AsyncGraphMemory,
    *,
    user_id: str | None = None,
    agent_id: str | None = None,
    run_id: str | None = None,
) -> list[BaseTool]:
    """[save_memory, search_memory], both bound to this scope (see the module docstring)."""
    sync = _sync(memory)
    scope = Scope(user_id=user_id, agent_id=agent_id, run_id=run_id)

    def save_memory(text: str) -> str:
        return _saved(sync.add(text, **scope.params()))

    async def asave_memory(text: str) -> str:
        return _saved(await add(memory, text, scope))

    def search_memory(query: str) -> str:
        return _found(sync.search(query, **scope.params()))

    async def asearch_memory(query: str) -> str:
        return _found(await search(memory, query, scope))

    return [
        StructuredTool.from_function(
            func=save_memory,
            coroutine=asave_memory,
            name="save_memory",
            description=SAVE_DESCRIPTION,
            args_schema=_SaveInput,
        ),
        StructuredTool.from_function(
            func=search_memory,
            coroutine=asearch_memory,
            name="search_memory",
            description=SEARCH_DESCRIPTION,
            args_schema=_SearchInput,
        ),
    ]


class GraphmemRetriever(BaseRetriever):
    """The facts of one scope relevant to a query, as Documents (see the module docstring).
    `k`: how many facts; `search_kwargs`: more `GraphMemory.search` arguments (mode, as_of, ...)."""

    memory: GraphMemory | AsyncGraphMemory
    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None
    k: int = 10
    search_kwargs: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _scoped(self) -> GraphmemRetriever:
        self._scope()  # at least one id, each a storable string
        if {"user_id", "agent_id", "run_id"} & set(self.search_kwargs):
            raise ValueError("give the scope as the retriever's user_id / agent_id / run_id, not in search_kwargs")
        return self

    def _scope(self) -> Scope:
        return Scope(user_id=self.user_id, agent_id=self.agent_id, run_id=self.run_id)

    def _options(self) -> dict[str, Any]:
        return {"limit": self.k, "episodes": 0, **self.search_kwargs}

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        results = _sync(self.memory).search(query, **self._scope().params(), **self._options())
        return [_document(hit) for hit in results]

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [_document(hit) for hit in await search(self.memory, query, self._scope(), **self._options())]


def _sync(memory: GraphMemory | AsyncGraphMemory) -> GraphMemory:
    """The sync memory LangChain's sync calls use (an AsyncGraphMemory's own)."""
    if isinstance(memory, AsyncGraphMemory):
        return memory.sync
    if isinstance(memory, GraphMemory):
        return memory
    raise TypeError(f"expected a GraphMemory or an AsyncGraphMemory, got {type(memory).__name__}")


def _saved(result: AddResult) -> str:
    parts = [
        (title, [f.fact for f in facts])
        for title, facts in (
            ("New", result.added),
            ("Updated", result.updated),
            ("No longer true", result.invalidated),
            ("Already known", result.noop),
        )
    ]
    lines = [f"{title}: " + "; ".join(facts) for title, facts in parts if facts]
    if not lines:
        return "Saved. No facts were found in it; the text itself is kept and can be searched."
    return "Saved.\n" + "\n".join(lines)


def _found(results: SearchResults) -> str:
    return results.to_context() or "Nothing relevant is remembered."


def _document(hit: SearchHit) -> Document:
    fact: Fact = hit.fact
    return Document(
        id=fact.id,
        page_content=fact.fact,
        metadata={
            "id": fact.id,
            "relation": fact.relation,
            "source": fact.source,
            "target": fact.target,
            "source_id": fact.source_id,
            "target_id": fact.target_id,
            "valid_from": fact.valid_from.isoformat(),
            "valid_to": fact.valid_to.isoformat() if fact.valid_to else None,
            "valid": fact.is_valid,
            "invalidated_by": fact.invalidated_by,
            "message_ids": list(fact.message_ids),
            "score": hit.score,
            "via": list(hit.via),
        },
    )
