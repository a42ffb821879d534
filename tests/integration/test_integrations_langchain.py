"""The LangGraph store and the LangChain tools and retriever, on a real Neo4j, driven through
each framework's own public API as a user drives them (graphmem/integrations/)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, TypedDict

import pytest
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.tools import BaseTool
from langgraph.config import get_store
from langgraph.graph import END, START, StateGraph
from langgraph.store.base import BaseStore, InvalidNamespaceError

from graphmem import AsyncGraphMemory, GraphMemory
from graphmem.integrations.langchain import GraphmemRetriever, memory_tools
from graphmem.integrations.langgraph import GraphmemStore

pytestmark = pytest.mark.neo4j

PARIS = {"messages": [{"role": "user", "name": "Alice", "content": "I live in Paris."}]}
LONDON = {"messages": [{"role": "user", "name": "Alice", "content": "I live in London."}]}


def _one(items: list[Any], target: str) -> Any:
    found = [i for i in items if i.value["target"] == target]
    assert len(found) == 1, [i.value for i in items]
    return found[0]


# -- LangGraph store ---------------------------------------------------------------------
def test_store_put_search_get_delete(memory: GraphMemory, new_user) -> None:
    user = new_user()
    store = GraphmemStore(memory)
    ns = (user,)
    assert store.put(ns, "home", PARIS) is None
    store.put(ns, "home", PARIS)  # the same value again: the same turn, skipped
    assert memory.stats(user_id=user).messages == 1

    items = store.search(ns, query="where does alice live")
    paris = _one(items, "Paris")
    assert paris.namespace == ns
    assert isinstance(paris.score, float) and paris.score > 0
    assert paris.value["relation"] == "lives_in" and paris.value["valid"] and paris.value["valid_to"] is None
    assert paris.value["fact"] and paris.value["message_ids"]
    assert store.get(ns, paris.key) == paris  # get returns the item search returned (score aside)
    assert store.search(ns) == [store.get(ns, paris.key)]  # no query: the scope's valid facts

    # a changed value is a new turn, whose fact invalidates the old one
    store.put(ns, "home", LONDON)
    assert memory.stats(user_id=user).messages == 2
    london = _one(store.search(ns, query="where does alice live"), "London")
    old = store.get(ns, paris.key)
    assert old is not None and old.value["valid"] is False and old.value["valid_to"] is not None
    assert paris.key not in {i.key for i in store.search(ns, query="where does alice live")}

    assert store.search(ns, query="alice", filter={"target": "London"}) == [
        store.search(ns, query="alice", filter={"target": "London"})[0]
    ]
    assert [i.key for i in store.search(ns, query="alice", filter={"target": "Rome"})] == []

    store.delete(ns, london.key)
    assert store.get(ns, london.key) is None
    assert memory.get(london.key) is None

    with pytest.raises(ValueError, match="content"):
        store.put(ns, "prefs", {"food": "pizza"})
    with pytest.raises(NotImplementedError):
        store.put(ns, "home", PARIS, ttl=5)


def test_store_get_returns_what_put_stored(memory: GraphMemory, new_user) -> None:
    user = new_user()
    store = GraphmemStore(memory)
    ns, child = (user,), (user, "planner")
    assert store.get(ns, "home") is None
    store.put(ns, "home", PARIS)
    first = store.get(ns, "home")
    assert first is not None and first.value == PARIS and first.key == "home" and first.namespace == ns
    # the key "home:x", the namespace below, and a sibling key are other items
    store.put(ns, "home:x", {"content": "I like tea.", "name": "Alice"})
    store.put(child, "home", {"content": "I live in Rome.", "name": "Alice"})
    assert store.get(ns, "home").value == PARIS  # type: ignore[union-attr]
    assert store.get(child, "home").value == {"content": "I live in Rome.", "name": "Alice"}  # type: ignore[union-attr]

    store.put(ns, "home", LONDON)
    store.put(ns, "home", PARIS)  # back to Paris: a change, so a put that writes
    again = store.get(ns, "home")
    assert again is not None and again.value == PARIS
    assert again.created_at == first.created_at and again.updated_at > first.updated_at
    assert memory.stats(user_id=user).messages == 5
    assert {i.value["target"] for i in store.search(ns, query="where does alice live") if i.value["valid"]} >= {"Paris"}

    # delete of a put key: every version of it goes, its facts stay; other keys are untouched
    facts_before = memory.stats(user_id=user).valid_facts
    store.delete(ns, "home")
    assert store.get(ns, "home") is None
    assert memory.stats(user_id=user).valid_facts == facts_before
    assert memory.stats(user_id=user).messages == 2
    assert store.get(ns, "home:x") is not None and store.get(child, "home") is not None
    store.delete(ns, "never-put")  # nothing under it: nothing happens

    # a value with a datetime: stored, and read back as JSON reads it (its text)
    when = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    store.put(ns, "dated", {"content": "I moved to Oslo.", "name": "Alice", "timestamp": when})
    assert store.get(ns, "dated").value == {  # type: ignore[union-attr]
        "content": "I moved to Oslo.",
        "name": "Alice",
        "timestamp": str(when),
    }

    # another user's store sees none of it
    other = GraphmemStore(memory, namespace_prefix=(new_user(),))
    with pytest.raises(InvalidNamespaceError):
        other.get(ns, "home:x")


def test_store_content_value_and_sub_namespaces(memory: GraphMemory, new_user) -> None:
    user = new_user()
    store = GraphmemStore(memory)
    store.put((user, "planner"), "k1", {"content": "I work at Acme.", "name": "Bob"})
    store.put((user, "planner", "run-1"), "k2", {"content": "I like jazz.", "name": "Bob"})
    acme = _one(store.search((user, "planner"), query="where does bob work"), "Acme")
    assert acme.namespace == (user, "planner")
    jazz = _one(store.search((user,), query="what does bob like"), "jazz")
    assert jazz.namespace == (user, "planner", "run-1")
    # a narrower namespace does not see its parent's facts
    assert "Acme" not in {i.value["target"] for i in store.search((user, "planner", "run-1"), query="bob work")}
    assert store.get((user, "planner", "run-1"), acme.key) is None
    with pytest.raises(InvalidNamespaceError, match="user_id"):
        store.put((user, "planner", "run-1", "extra"), "k", {"content": "I live in Rome."})


def test_store_async_api(memory: GraphMemory, new_user) -> None:
    user, other = new_user(), new_user()

    async def run(store: GraphmemStore, user: str) -> None:
        ns = (user,)
        await store.aput(ns, "home", PARIS)
        paris = _one(await store.asearch(ns, query="where does alice live"), "Paris")
        assert await store.aget(ns, paris.key) == paris
        assert await store.alist_namespaces() == [ns]
        await store.adelete(ns, paris.key)
        assert await store.aget(ns, paris.key) is None

    asyncio.run(run(GraphmemStore(AsyncGraphMemory(memory), namespace_prefix=(user,)), user))
    asyncio.run(run(GraphmemStore(memory, namespace_prefix=(other,)), other))


def test_store_scope_isolation(memory: GraphMemory, new_user) -> None:
    alice, bob = new_user(), new_user()
    store = GraphmemStore(memory)
    store.put((alice,), "home", PARIS)
    store.put((bob,), "home", LONDON)
    paris = _one(store.search((alice,), query="where does alice live"), "Paris")
    london = _one(store.search((bob,), query="where does alice live"), "London")
    assert {i.value["target"] for i in store.search((alice,), query="alice london")} == {"Paris"}
    assert store.get((bob,), paris.key) is None
    assert store.get((alice,), london.key) is None
    store.delete((bob,), paris.key)  # another user's fact: nothing happens
    assert memory.get(paris.key) is not None

    mine = GraphmemStore(memory, namespace_prefix=(alice,))
    assert mine.list_namespaces() == [(alice,)]
    assert mine.list_namespaces(prefix=(bob,)) == []
    assert mine.list_namespaces(max_depth=1) == [(alice,)]
    _one(mine.search((alice,), query="where does alice live"), "Paris")
    mine.put((alice, "helper"), "note", {"content": "I like tea.", "name": "Alice"})  # below the prefix: allowed
    for call in (
        lambda: mine.search((bob,), query="where does alice live"),
        lambda: mine.get((bob,), london.key),
        lambda: mine.put((bob,), "home", PARIS),
        lambda: mine.delete((bob,), london.key),
        lambda: mine.search((bob, "helper"), query="tea"),
    ):
        with pytest.raises(InvalidNamespaceError, match="restricted"):
            call()
    assert memory.get(london.key) is not None
    with pytest.raises(NotImplementedError, match="namespace_prefix"):
        store.list_namespaces()
    assert GraphmemStore(memory, namespace_prefix=(new_user(),)).list_namespaces() == []  # holds nothing


class _State(TypedDict, total=False):
    user: str
    said: str
    question: str
    answer: list[str]


def _graph(store: GraphmemStore) -> Any:
    """remember writes through get_store(), recall reads through the injected `store` argument."""

    def remember(state: _State) -> _State:
        get_store().put((state["user"],), "turn", {"content": state["said"], "name": "Alice"})
        return {}

    def recall(state: _State, *, store: BaseStore) -> _State:
        return {"answer": [i.value["fact"] for i in store.search((state["user"],), query=state["question"])]}

    builder = StateGraph(_State)
    builder.add_node("remember", remember)
    builder.add_node("recall", recall)
    builder.add_edge(START, "remember")
    builder.add_edge("remember", "recall")
    builder.add_edge("recall", END)
    return builder.compile(store=store)


def test_langgraph_graph_uses_the_store(memory: GraphMemory, new_user) -> None:
    alice, bob = new_user(), new_user()
    graph = _graph(GraphmemStore(memory))
    out = graph.invoke({"user": alice, "said": "I live in Paris.", "question": "where does alice live"})
    assert any("Paris" in fact for fact in out["answer"])
    # the next run, for another user, does not see it; the async graph runs too
    out = asyncio.run(
        _graph(GraphmemStore(AsyncGraphMemory(memory))).ainvoke(
            {"user": bob, "said": "I work at Acme.", "question": "where does alice live"}
        )
    )
    assert not any("Paris" in fact for fact in out["answer"])
    assert memory.stats(user_id=alice).messages == 1 and memory.stats(user_id=bob).messages == 1


def test_langgraph_graph_refuses_another_users_namespace(memory: GraphMemory, new_user) -> None:
    alice, bob = new_user(), new_user()
    graph = _graph(GraphmemStore(memory, namespace_prefix=(alice,)))
    with pytest.raises(InvalidNamespaceError, match="restricted"):
        graph.invoke({"user": bob, "said": "I live in Paris.", "question": "where"})
    assert memory.stats(user_id=bob).messages == 0


# -- LangChain tools and retriever -------------------------------------------------------
def _tools(memory: GraphMemory | AsyncGraphMemory, **scope: str) -> dict[str, BaseTool]:
    tools = memory_tools(memory, **scope)
    assert all(isinstance(t, BaseTool) for t in tools)
    return {t.name: t for t in tools}


def test_tools_save_and_search(memory: GraphMemory, new_user) -> None:
    user = new_user()
    tools = _tools(memory, user_id=user)
    assert set(tools) == {"save_memory", "search_memory"}
    # the scope is not an argument the model could set
    assert set(tools["save_memory"].args) == {"text"}
    assert set(tools["search_memory"].args) == {"query"}
    assert "Returns" in tools["search_memory"].description

    saved = tools["save_memory"].invoke({"text": "I live in Paris."})
    assert saved.startswith("Saved.") and "New:" in saved and "Paris" in saved
    moved = tools["save_memory"].invoke({"text": "I live in London."})
    assert "No longer true:" in moved and "Paris" in moved
    assert "no facts" in tools["save_memory"].invoke({"text": "Hmm."}).lower()

    found = tools["search_memory"].invoke({"query": "where do I live"})
    facts, turns = found.split("Relevant conversation turns:")
    assert "London" in facts and "Paris" not in facts  # facts true now; the turns say what was said
    assert "I live in Paris." in turns
    assert [f.target for f in memory.get_all(user_id=user)] == ["London"]

    # a model's extra arguments cannot move the tools to another scope
    other = new_user()
    tools["save_memory"].invoke({"text": "I work at Acme.", "user_id": other})
    assert memory.stats(user_id=other).messages == 0
    assert "Acme" in tools["search_memory"].invoke({"query": "where do I work", "user_id": other})


def test_tools_are_bound_to_their_scope(memory: GraphMemory, new_user) -> None:
    alice, bob = new_user(), new_user()
    _tools(memory, user_id=alice)["save_memory"].invoke({"text": "I live in Paris."})
    bobs = _tools(AsyncGraphMemory(memory), user_id=bob)
    asyncio.run(bobs["save_memory"].ainvoke({"text": "I work at Acme."}))
    found = asyncio.run(bobs["search_memory"].ainvoke({"query": "where do I live"}))
    assert "Acme" in found and "Paris" not in found
    assert "Paris" in _tools(memory, user_id=alice, agent_id=None)["search_memory"].invoke({"query": "paris"})
    assert _tools(memory, user_id=new_user())["search_memory"].invoke({"query": "paris"}) == (
        "Nothing relevant is remembered."
    )
    with pytest.raises(Exception, match="at least one"):
        memory_tools(memory)


def test_retriever_documents(memory: GraphMemory, new_user) -> None:
    alice, bob = new_user(), new_user()
    memory.add({"role": "user", "name": "Alice", "content": "I live in Paris."}, user_id=alice)
    memory.add({"role": "user", "name": "Alice", "content": "I live in London."}, user_id=alice)
    memory.add({"role": "user", "name": "Bob", "content": "I live in Rome."}, user_id=bob)

    retriever = GraphmemRetriever(memory=memory, user_id=alice, k=5)
    assert isinstance(retriever, BaseRetriever)
    docs = retriever.invoke("where does alice live")
    assert docs and all(isinstance(d, Document) for d in docs)
    london = next(d for d in docs if d.metadata["target"] == "London")
    fact = memory.get(london.metadata["id"], user_id=alice)
    assert fact is not None and london.id == fact.id and london.page_content == fact.fact
    assert london.metadata["relation"] == "lives_in" and london.metadata["valid"] is True
    assert london.metadata["valid_to"] is None and london.metadata["valid_from"] == fact.valid_from.isoformat()
    assert london.metadata["message_ids"] == fact.message_ids and fact.message_ids
    assert isinstance(london.metadata["score"], float)
    assert "Rome" not in {d.metadata["target"] for d in docs}

    # search_kwargs reach search: the invalidated Paris fact, with its end of validity
    history = GraphmemRetriever(
        memory=AsyncGraphMemory(memory), user_id=alice, search_kwargs={"include_invalidated": True}
    )
    paris = next(d for d in asyncio.run(history.ainvoke("where does alice live")) if d.metadata["target"] == "Paris")
    assert paris.metadata["valid"] is False and paris.metadata["valid_to"] is not None
    assert paris.metadata["invalidated_by"] is not None
    assert [d.metadata["target"] for d in GraphmemRetriever(memory=memory, user_id=bob).invoke("alice")] == ["Rome"]

    with pytest.raises(Exception, match="at least one"):
        GraphmemRetriever(memory=memory)
    with pytest.raises(Exception, match="search_kwargs"):
        GraphmemRetriever(memory=memory, user_id=alice, search_kwargs={"user_id": bob})


class _ToolCallingFake:
    """A scripted tool-calling chat model for a real agent run, no network: LangChain's
    GenericFakeChatModel answering from a list of messages, with bind_tools accepted."""

    @staticmethod
    def make(messages: list[Any]) -> Any:
        from langchain_core.language_models.fake_chat_models import GenericFakeChatModel

        class Fake(GenericFakeChatModel):
            def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
                return self

        return Fake(messages=iter(messages))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_langgraph_agent_saves_in_one_turn_and_recalls_in_a_later_one(memory: GraphMemory, new_user) -> None:
    """A prebuilt ReAct agent driven by a scripted model: turn 1 calls save_memory, turn 2 calls
    search_memory and sees the fact; an agent bound to another user finds nothing."""
    from langchain_core.messages import AIMessage, ToolMessage
    from langgraph.prebuilt import create_react_agent

    alice, bob = new_user("lc-agent"), new_user("lc-agent")

    def call(tool: str, args: dict[str, str], n: int) -> AIMessage:
        return AIMessage(content="", tool_calls=[{"name": tool, "args": args, "id": f"call-{n}"}])

    def run(user: str, script: list[Any], question: str) -> list[Any]:
        agent = create_react_agent(_ToolCallingFake.make(script), tools=memory_tools(memory, user_id=user))
        return agent.invoke({"messages": [("user", question)]})["messages"]

    run(
        alice,
        [call("save_memory", {"text": "I work at Siemens."}, 1), AIMessage(content="Noted.")],
        "I work at Siemens.",
    )
    recalled = run(
        alice,
        [call("search_memory", {"query": "where do I work"}, 2), AIMessage(content="At Siemens.")],
        "Where do I work?",
    )
    tool_output = [m.content for m in recalled if isinstance(m, ToolMessage)]
    assert len(tool_output) == 1 and "Siemens" in tool_output[0]
    elsewhere = run(
        bob,
        [call("search_memory", {"query": "where do I work"}, 3), AIMessage(content="I don't know.")],
        "Where do I work?",
    )
    assert [m.content for m in elsewhere if isinstance(m, ToolMessage)] == ["Nothing relevant is remembered."]
