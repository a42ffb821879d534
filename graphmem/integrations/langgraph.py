"""LangGraph long-term memory over graphmem: `GraphmemStore`, a `langgraph.store.base.BaseStore`.

    store = GraphmemStore(GraphMemory.from_env(), namespace_prefix=("alice",))
    graph = builder.compile(store=store)  # nodes reach it through get_store() or `store`

**Namespace -> scope.** A namespace is `(user_id,)`, `(user_id, agent_id)` or
`(user_id, agent_id, run_id)`: the first label is the user, the optional second the agent, the
optional third the run. A longer (or empty) namespace raises `InvalidNamespaceError`. Searches
filter on the ids the namespace sets, as graphmem's own reads do: searching `("alice",)` sees what
was put under `("alice", "planner")` too, never what was put under `("bob",)`. A store built with
`namespace_prefix=("alice",)` refuses (`InvalidNamespaceError`) any namespace that does not start
with that prefix, so a store handed to one user's agent cannot reach another user's scope.

**Two kinds of items: what was put, and the facts graphmem drew from it.**

- `put(namespace, key, value)` stores the value as conversation turns and writes them through the
  pipeline (`GraphMemory.add`), so their facts update or invalidate older ones as any add does.
  `value` is `{"content": "<text>"}` (optionally with "role", "name", "timestamp") or
  `{"messages": [<turn dict or text>, ...]}`; any other value raises `ValueError`. The turns get
  the ids `langgraph:<hash of namespace and key>:<put id>[:<position>]` and the metadata
  `{"langgraph_namespace": [...], "langgraph_key": key, "langgraph_value": value}` (the value as
  JSON reads it back: a datetime becomes its text). A put of the value the key already holds
  writes nothing (no LLM call). `index=` is ignored (graphmem embeds all it stores); TTLs are not
  supported.
- `get(namespace, key)` returns the value last put under `key` in exactly that namespace
  (`created_at`: its first put, `updated_at`: its last). A key never put there that is a fact id
  (32 hex digits, the key of a search hit) returns that fact, as `search` does, when it is the
  namespace's; otherwise None.
- `delete(namespace, key)` deletes the turns put under `key` in that namespace (every version),
  so `get` returns None; the facts drawn from them stay in memory, as they are what the user said
  (delete one by its fact id, or let later turns invalidate it). A fact id deletes that fact
  (`GraphMemory.delete`).
- `search(namespace, query=...)` is `GraphMemory.search` (the default mode, no LLM call): one
  `SearchItem` per fact hit, `key` = the fact id, `score` = the hit's score, `value` = `{"fact",
  "source", "relation", "target", "valid_from", "valid_to", "valid", "message_ids"}` (times as ISO
  8601 text, `valid_to` None while the fact holds; `message_ids` are the turns it was said in).
  Without a query, the scope's valid facts (`get_all`), with `score` None. `filter=` compares
  top-level value fields for equality, on the fetched page.
- `list_namespaces()` needs `namespace_prefix`: graphmem has no listing of scopes, so it answers
  only for the prefix (listed when its scope holds anything), and raises `NotImplementedError`
  on a store without one. Namespaces below the prefix are not enumerated.

Built with a `GraphMemory`, `abatch` runs the batch in a worker thread; with an
`AsyncGraphMemory`, through its coroutines (in its lanes).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import uuid
from collections.abc import Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._memory import AsyncGraphMemory, GraphMemory
from .._models import Episode, Fact, MemoryStats, Scope
from ..search.results import SearchResults
from ._require import require

if TYPE_CHECKING:
    from langgraph.store.base import (
        BaseStore,
        GetOp,
        InvalidNamespaceError,
        Item,
        ListNamespacesOp,
        MatchCondition,
        Op,
        PutOp,
        Result,
        SearchItem,
        SearchOp,
    )
else:
    _base = require("langgraph.store.base", extra="langgraph")
    BaseStore = _base.BaseStore
    GetOp = _base.GetOp
    InvalidNamespaceError = _base.InvalidNamespaceError
    Item = _base.Item
    ListNamespacesOp = _base.ListNamespacesOp
    MatchCondition = _base.MatchCondition
    Op = _base.Op
    PutOp = _base.PutOp
    Result = _base.Result
    SearchItem = _base.SearchItem
    SearchOp = _base.SearchOp

__all__ = ["GraphmemStore"]

#: the ids graphmem gives facts
_FACT_ID = re.compile(r"[0-9a-f]{32}")
#: the most turns a key's versions are read back with (each put of a changed value adds its turns)
_MAX_TURNS = 1_000
_SCOPE_LABELS = ("user_id", "agent_id", "run_id")


@dataclass
class _Call:
    """One call of a GraphMemory method (`name`); an op is a generator of these (`_Steps`), sent
    each result, and returning the op's result."""

    name: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


_Steps = Generator[_Call, Any, Any]


class GraphmemStore(BaseStore):
    """A LangGraph store over graphmem: puts are stored turns, searches return facts; see the
    module docstring for the mapping.

    `memory`: a GraphMemory or an AsyncGraphMemory. `namespace_prefix`: the only namespaces the
    store answers for (e.g. `("alice",)`); without it, any `(user_id[, agent_id[, run_id]])`."""

    __slots__ = ("_memory", "_async", "namespace_prefix")

    def __init__(
        self, memory: GraphMemory | AsyncGraphMemory, *, namespace_prefix: Sequence[str] | None = None
    ) -> None:
        self._memory: GraphMemory
        self._async: AsyncGraphMemory | None
        if isinstance(memory, AsyncGraphMemory):
            self._memory, self._async = memory.sync, memory
        elif isinstance(memory, GraphMemory):
            self._memory, self._async = memory, None
        else:
            raise TypeError(f"GraphmemStore needs a GraphMemory or an AsyncGraphMemory, got {type(memory).__name__}")
        self.namespace_prefix: tuple[str, ...] | None = None
        if namespace_prefix is not None:
            prefix = tuple(namespace_prefix)
            _scope(prefix)  # a prefix names a scope itself: checked once, here
            self.namespace_prefix = prefix

    # -- BaseStore ----------------------------------------------------------------------
    def batch(self, ops: Iterable[Op]) -> list[Result]:
        results: list[Result] = []
        for op in ops:
            steps = self._steps(op)
            try:
                call = next(steps)
                while True:
                    call = steps.send(getattr(self._memory, call.name)(*call.args, **call.kwargs))
            except StopIteration as done:
                results.append(done.value)
        return results

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        if self._async is None:
            return await asyncio.to_thread(self.batch, list(ops))
        results: list[Result] = []
        for op in ops:  # in order: a put before a search in one batch is seen by it
            steps = self._steps(op)
            try:
                call = next(steps)
                while True:
                    call = steps.send(await getattr(self._async, call.name)(*call.args, **call.kwargs))
            except StopIteration as done:
                results.append(done.value)
        return results

    # -- ops -> calls -------------------------------------------------------------------
    def _steps(self, op: Op) -> _Steps:
        if isinstance(op, GetOp):
            return self._get(op)
        if isinstance(op, PutOp):
            return self._delete(op) if op.value is None else self._put(op)
        if isinstance(op, SearchOp):
            return self._search(op)
        if isinstance(op, ListNamespacesOp):
            return self._list_namespaces(op)
        raise ValueError(f"GraphmemStore does not know the operation {type(op).__name__}")

    def _scope(self, namespace: tuple[str, ...]) -> Scope:
        prefix = self.namespace_prefix
        if prefix is not None and tuple(namespace[: len(prefix)]) != prefix:
            raise InvalidNamespaceError(
                f"this GraphmemStore is restricted to the namespaces under {prefix!r}; {tuple(namespace)!r} is not one"
            )
        return _scope(namespace)

    def _put_turns(self, namespace: tuple[str, ...], key: str) -> _Steps:
        """The turns put under `key` in exactly `namespace`, newest first."""
        scope = self._scope(namespace)
        prefix = _put_prefix(namespace, key)
        found = yield _Call("episodes", kwargs={**scope.params(), "id_prefix": prefix, "limit": _MAX_TURNS})
        return [e for e in found if _put_of(e, namespace, key)]

    def _get(self, op: GetOp) -> _Steps:
        turns = yield from self._put_turns(op.namespace, op.key)
        if turns:
            return _put_item(turns)
        if not _FACT_ID.fullmatch(op.key):
            return None
        fact = yield _Call("get", (op.key,), dict(self._scope(op.namespace).params()))
        return None if fact is None else _item(fact)

    def _put(self, op: PutOp) -> _Steps:
        if op.ttl is not None:  # BaseStore.put refuses a TTL before it gets here; a direct batch may not
            raise NotImplementedError("GraphmemStore does not support TTLs")
        value = dict(op.value or {})
        messages = _messages(op.namespace, op.key, value)  # a bad value fails before any read
        stored = _json(value)  # as JSON reads it back (a datetime becomes its text): what get returns
        turns = yield from self._put_turns(op.namespace, op.key)
        if turns and _value_of(turns[0]) == stored:
            return None  # the key holds this value already: nothing to write, no LLM call
        metadata = {"langgraph_namespace": list(op.namespace), "langgraph_key": op.key, "langgraph_value": stored}
        yield _Call("add", (messages,), {**self._scope(op.namespace).params(), "metadata": metadata})
        return None

    def _delete(self, op: PutOp) -> _Steps:
        turns = yield from self._put_turns(op.namespace, op.key)
        scope = self._scope(op.namespace)
        if not turns and _FACT_ID.fullmatch(op.key):
            yield _Call("delete", (op.key,), dict(scope.params()))
        while turns:  # a key changed many times holds more turns than one read returns
            yield _Call("delete_episodes", ([t.id for t in turns],), dict(scope.params()))
            turns = yield from self._put_turns(op.namespace, op.key)
        return None

    def _search(self, op: SearchOp) -> _Steps:
        scope = self._scope(op.namespace_prefix)
        wanted = dict(op.filter or {})
        if any(key.startswith("$") or isinstance(value, Mapping) for key, value in wanted.items()):
            raise NotImplementedError("GraphmemStore filters compare top-level value fields for equality only")
        limit, offset = max(op.limit, 0), max(op.offset, 0)
        if op.query is None:
            facts = yield _Call("get_all", kwargs={**scope.params(), "limit": offset + limit})
            items = [_item(f) for f in facts]
        else:
            results: SearchResults = yield _Call(
                "search", (op.query,), {**scope.params(), "limit": offset + limit, "episodes": 0}
            )
            items = [_item(hit.fact, score=hit.score) for hit in results]
        kept = [i for i in items if all(i.value.get(k) == v for k, v in wanted.items())]
        return kept[offset : offset + limit]

    def _list_namespaces(self, op: ListNamespacesOp) -> _Steps:
        prefix = self.namespace_prefix
        if prefix is None:
            raise NotImplementedError(
                "graphmem has no listing of scopes: build the GraphmemStore with namespace_prefix=(user_id, ...) "
                "to list the namespace it is restricted to"
            )
        stats: MemoryStats = yield _Call("stats", kwargs=dict(_scope(prefix).params()))
        held = stats.entities + stats.valid_facts + stats.invalidated_facts + stats.messages > 0
        if not held or not all(_matches(c, prefix) for c in op.match_conditions or ()):
            return []
        namespace = prefix if op.max_depth is None else prefix[: op.max_depth]
        return [namespace][op.offset : op.offset + op.limit]


# -- mapping ---------------------------------------------------------------------------
def _scope(namespace: Sequence[str]) -> Scope:
    """(user_id[, agent_id[, run_id]]) -> Scope."""
    namespace = tuple(namespace)
    if not 1 <= len(namespace) <= len(_SCOPE_LABELS):
        raise InvalidNamespaceError(
            f"a GraphmemStore namespace is (user_id,), (user_id, agent_id) or (user_id, agent_id, run_id); "
            f"got {namespace!r}"
        )
    for label in namespace:
        if not isinstance(label, str) or not label:
            raise InvalidNamespaceError(f"namespace labels must be non-empty strings; got {namespace!r}")
    return Scope(**dict(zip(_SCOPE_LABELS, namespace)))


def _namespace(fact: Fact) -> tuple[str, ...]:
    """A fact's scope as a namespace: its ids up to the first one not set."""
    labels: list[str] = []
    for value in (fact.user_id, fact.agent_id, fact.run_id):
        if value is None:
            break
        labels.append(value)
    return tuple(labels)


def _item(fact: Fact, *, score: float | None = None) -> SearchItem:
    value = {
        "fact": fact.fact,
        "source": fact.source,
        "relation": fact.relation,
        "target": fact.target,
        "valid_from": fact.valid_from.isoformat(),
        "valid_to": fact.valid_to.isoformat() if fact.valid_to else None,
        "valid": fact.is_valid,
        "message_ids": list(fact.message_ids),
    }
    return SearchItem(
        namespace=_namespace(fact),
        key=fact.id,
        value=value,
        created_at=fact.created_at,
        updated_at=fact.updated_at or fact.created_at,
        score=score,
    )


def _put_prefix(namespace: tuple[str, ...], key: str) -> str:
    """The id prefix of the turns put under `key` in `namespace`: hashed, so that no other key
    ("a" / "a:b") or namespace shares it."""
    if not isinstance(key, str) or not key:
        raise ValueError(f"GraphmemStore keys are non-empty strings; got {key!r}")
    digest = hashlib.sha256(json.dumps([list(namespace), key]).encode()).hexdigest()[:24]
    return f"langgraph:{digest}:"


def _put_of(turn: Episode, namespace: tuple[str, ...], key: str) -> bool:
    """Whether `turn` was put under `key` in exactly `namespace` (the id prefix of key "a" also
    matches key "a:b"; a parent namespace's search also sees a child's turns)."""
    meta = turn.metadata or {}
    return meta.get("langgraph_key") == key and tuple(meta.get("langgraph_namespace") or ()) == namespace


def _json(value: Any) -> Any:
    """`value` as it reads back from the store's JSON (tuples become lists, and so on)."""
    return json.loads(json.dumps(value, default=str))


def _value_of(turn: Episode) -> Any:
    return (turn.metadata or {}).get("langgraph_value")


def _put_item(turns: list[Episode]) -> Item:
    """The item of a key from its turns, newest first: the last put's value."""
    meta = turns[0].metadata or {}
    first, last = turns[-1], turns[0]
    return Item(
        value=_value_of(last),
        key=str(meta["langgraph_key"]),
        namespace=tuple(meta["langgraph_namespace"]),
        created_at=first.created_at or first.timestamp,
        updated_at=last.created_at or last.timestamp,
    )


def _messages(namespace: tuple[str, ...], key: str, value: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A put's value as turns, each with an id from the key and a new put id."""
    if "messages" in value:
        given = value["messages"]
        if isinstance(given, (str, bytes)) or not isinstance(given, Sequence):
            raise ValueError('GraphmemStore.put: "messages" must be a list of message dicts or texts')
        turns = [{"content": m} if isinstance(m, str) else dict(m) for m in given]
    elif isinstance(value.get("content"), str):
        turns = [{k: value[k] for k in ("role", "name", "timestamp", "content") if k in value}]
    else:
        raise ValueError(
            'GraphmemStore.put takes {"content": "<text>"} or {"messages": [...]}: graphmem stores turns and '
            f"extracts facts from them; got a value with the fields {sorted(value)}"
        )
    put_id = uuid.uuid4().hex[:16]
    for position, turn in enumerate(turns):
        turn["id"] = _put_prefix(namespace, key) + put_id + (f":{position}" if len(turns) > 1 else "")
    return turns


def _matches(condition: MatchCondition, namespace: tuple[str, ...]) -> bool:
    path = tuple(condition.path)
    if len(namespace) < len(path):
        return False
    if condition.match_type == "prefix":
        pairs = zip(namespace, path)
    elif condition.match_type == "suffix":
        pairs = zip(reversed(namespace), reversed(path))
    else:
        raise ValueError(f"unknown match type {condition.match_type!r}")
    return all(want == "*" or label == want for label, want in pairs)
