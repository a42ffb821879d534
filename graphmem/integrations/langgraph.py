"""LangGraph long-term memory over graphmem: `GraphmemStore`, a `langgraph.store.base.BaseStore`.

    store = GraphmemStore(GraphMemory.from_env(), namespace_prefix=("alice",))
    graph = builder.compile(store=store)  # nodes reach it through get_store() or `store`

**Namespace -> scope.** A namespace is `(user_id,)`, `(user_id, agent_id)` or
`(user_id, agent_id, run_id)`: the first label is the user, the optional second the agent, the
optional third the run. A longer (or empty) namespace raises `InvalidNamespaceError`. Reads filter
on the ids the namespace sets, as graphmem's own reads do: searching `("alice",)` sees what was
put under `("alice", "planner")` too, never what was put under `("bob",)`. A store built with
`namespace_prefix=("alice",)` refuses (`InvalidNamespaceError`) any namespace that does not start
with that prefix, so a store handed to one user's agent cannot reach another user's scope.

**Items are facts.** graphmem does not keep values under a caller's key: it stores what was said
(turns) and the facts extracted from it, which later turns update or invalidate. So:

- `put(namespace, key, value)` writes through the pipeline (`GraphMemory.add`): `value` is
  `{"content": "<text>"}` (optionally with "role", "name", "timestamp") or `{"messages": [<turn
  dict or text>, ...]}`. The turns are stored with the id `langgraph:<key>:<hash of the value>`
  (an identical put is skipped; a changed value is a new turn, whose facts update or invalidate
  the old ones as any add does) and the metadata `{"langgraph_namespace": [...], "langgraph_key":
  key}`. Any other value raises `ValueError`. `index=` is ignored (graphmem embeds all it stores);
  TTLs are not supported.
- `search(namespace, query=...)` is `GraphMemory.search` (the default mode, no LLM call): one
  `SearchItem` per fact hit, `key` = the fact id, `score` = the hit's score, `value` = `{"fact",
  "source", "relation", "target", "valid_from", "valid_to", "valid", "message_ids"}` (times as ISO
  8601 text, `valid_to` None while the fact holds; `message_ids` are the turns it was said in).
  Without a query, the scope's valid facts (`get_all`), with `score` None. `filter=` compares
  top-level value fields for equality, on the fetched page.
- `get(namespace, fact_id)` returns that fact as `search` does (None unless it is the
  namespace's); `delete(namespace, fact_id)` hard-deletes it (`GraphMemory.delete`). A key that is
  not a fact id (32 hex digits) - a `put` key - raises `NotImplementedError`: graphmem has no
  read or delete of turns by a caller's key, so a put cannot be read back by its key.
- `list_namespaces()` needs `namespace_prefix`: graphmem has no listing of scopes, so it answers
  only for the prefix (listed when its scope holds anything), and raises `NotImplementedError`
  on a store without one. Namespaces below the prefix are not enumerated.

Built with a `GraphMemory`, `abatch` runs the batch in a worker thread; with an
`AsyncGraphMemory`, through its coroutines (and its concurrency bound).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._memory import AsyncGraphMemory, GraphMemory
from .._models import Fact, MemoryStats, Scope
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
_SCOPE_LABELS = ("user_id", "agent_id", "run_id")


@dataclass
class _Call:
    """One op as a call of a GraphMemory method (`name`), and what makes its result the op's."""

    name: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    convert: Callable[[Any], Result] = lambda _: None


class GraphmemStore(BaseStore):
    """A LangGraph store whose items are graphmem facts; see the module docstring for the mapping.

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
            call = self._plan(op)
            results.append(call.convert(getattr(self._memory, call.name)(*call.args, **call.kwargs)))
        return results

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        if self._async is None:
            return await asyncio.to_thread(self.batch, list(ops))
        results: list[Result] = []
        for op in ops:  # in order: a put before a search in one batch is seen by it
            call = self._plan(op)
            results.append(call.convert(await getattr(self._async, call.name)(*call.args, **call.kwargs)))
        return results

    # -- ops -> calls -------------------------------------------------------------------
    def _plan(self, op: Op) -> _Call:
        if isinstance(op, GetOp):
            return self._get(op)
        if isinstance(op, PutOp):
            return self._put(op)
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

    def _get(self, op: GetOp) -> _Call:
        scope = self._scope(op.namespace)
        fact_id = _fact_key(op.key, "get")
        return _Call("get", (fact_id,), dict(scope.params()), lambda fact: None if fact is None else _item(fact))

    def _put(self, op: PutOp) -> _Call:
        scope = self._scope(op.namespace)
        if op.value is None:  # BaseStore.delete
            fact_id = _fact_key(op.key, "delete")
            return _Call("delete", (fact_id,), dict(scope.params()))
        messages = _messages(op.key, op.value)
        metadata = {"langgraph_namespace": list(op.namespace), "langgraph_key": op.key}
        return _Call("add", (messages,), {**scope.params(), "metadata": metadata})

    def _search(self, op: SearchOp) -> _Call:
        scope = self._scope(op.namespace_prefix)
        wanted = dict(op.filter or {})
        if any(key.startswith("$") or isinstance(value, Mapping) for key, value in wanted.items()):
            raise NotImplementedError("GraphmemStore filters compare top-level value fields for equality only")
        limit, offset = max(op.limit, 0), max(op.offset, 0)

        def page(items: list[SearchItem]) -> list[SearchItem]:
            kept = [i for i in items if all(i.value.get(k) == v for k, v in wanted.items())]
            return kept[offset : offset + limit]

        if op.query is None:
            return _Call(
                "get_all",
                kwargs={**scope.params(), "limit": offset + limit},
                convert=lambda facts: page([_item(f) for f in facts]),
            )

        def hits(results: SearchResults) -> list[SearchItem]:
            return page([_item(hit.fact, score=hit.score) for hit in results])

        return _Call("search", (op.query,), {**scope.params(), "limit": offset + limit, "episodes": 0}, convert=hits)

    def _list_namespaces(self, op: ListNamespacesOp) -> _Call:
        prefix = self.namespace_prefix
        if prefix is None:
            raise NotImplementedError(
                "graphmem has no listing of scopes: build the GraphmemStore with namespace_prefix=(user_id, ...) "
                "to list the namespace it is restricted to"
            )

        def listed(stats: MemoryStats) -> list[tuple[str, ...]]:
            held = stats.entities + stats.valid_facts + stats.invalidated_facts + stats.messages > 0
            if not held or not all(_matches(c, prefix) for c in op.match_conditions or ()):
                return []
            namespace = prefix if op.max_depth is None else prefix[: op.max_depth]
            return [namespace][op.offset : op.offset + op.limit]

        return _Call("stats", kwargs=dict(_scope(prefix).params()), convert=listed)


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


def _fact_key(key: str, operation: str) -> str:
    if not isinstance(key, str) or not _FACT_ID.fullmatch(key):
        raise NotImplementedError(
            f"GraphmemStore.{operation}() takes a fact id (the key of an item search returned), not {key!r}: "
            "graphmem stores what is put as turns and extracted facts, and cannot read or delete them by the put key"
        )
    return key


def _messages(key: str, value: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A put's value as turns, each with an id from the key and the value (an identical put is
    skipped by graphmem's idempotent ingest)."""
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
    digest = hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]
    for position, turn in enumerate(turns):
        turn["id"] = f"langgraph:{key}:{digest}" + (f":{position}" if len(turns) > 1 else "")
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
