"""The public API's shape, as httpx checks its own: what `graphmem` exports, that every type a
public method returns is exported, and that the async facade takes exactly the sync
signatures. Pure: no Neo4j."""

from __future__ import annotations

import inspect
import typing

import graphmem
from graphmem import AsyncGraphMemory, GraphMemory

EXPORTED = {
    "AddResult", "AddWindow", "AsyncGraphMemory", "BusyError", "ConcurrentWriteError", "ConfigError", "Entity", "Episode", "EpisodeHit", "Fact", "GraphMemory",
    "GraphmemError", "InputError", "LLMError", "MemoryInfo", "MemoryStats", "Message", "Neo4jUnavailable", "SchemaError", "ServerError",
    "Scope", "SearchHit", "SearchResults", "Settings", "Signal", "Triplet", "Usage", "load_settings",
    "Attribute", "EntityType", "Ontology", "RelationType", "Rejection", "load_ontology",
}  # fmt: skip


def public_methods(cls: type) -> dict[str, typing.Any]:
    return {name: fn for name, fn in inspect.getmembers(cls, inspect.isfunction) if not name.startswith("_")}


def test_exported_members() -> None:
    assert set(graphmem.__all__) == EXPORTED
    for name in graphmem.__all__:
        member = getattr(graphmem, name)
        # each export is defined in graphmem, whichever private module holds it
        assert member.__module__.startswith("graphmem."), name
    assert graphmem.__version__


def test_every_type_the_api_returns_is_exported() -> None:
    exported = {getattr(graphmem, name) for name in graphmem.__all__}
    for cls in (GraphMemory, AsyncGraphMemory):
        for name, fn in public_methods(cls).items():
            returned = typing.get_type_hints(fn, vars(inspect.getmodule(fn))).get("return")
            for kind in _classes(returned):
                assert kind in exported, f"{cls.__name__}.{name} returns {kind.__name__}, not exported"


def _classes(hint: typing.Any) -> set[type]:
    """The graphmem classes a type hint names (list[Fact] -> {Fact}), builtins aside."""
    found: set[type] = set()
    if isinstance(hint, type) and hint.__module__.startswith("graphmem."):
        found.add(hint)
    for arg in typing.get_args(hint):
        found |= _classes(arg)
    return found


def test_the_async_facade_takes_exactly_the_sync_signatures() -> None:
    sync, async_ = public_methods(GraphMemory), public_methods(AsyncGraphMemory)
    # from_env and close are the facade's own: a classmethod and a coroutine without arguments
    assert set(sync) == set(async_), set(sync) ^ set(async_)
    for name, fn in sync.items():
        theirs = inspect.signature(async_[name])
        ours = inspect.signature(fn)
        public = [p for p in ours.parameters.values() if not p.name.startswith("_")]  # test hooks aside
        assert list(theirs.parameters.values()) == public, name
        assert theirs.return_annotation == ours.return_annotation, name
        if name not in ("from_env",):
            assert inspect.iscoroutinefunction(async_[name]), name
