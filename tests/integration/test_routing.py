"""graphmem through a routing URI (neo4j://), as it runs against a cluster or Aura: the driver
fetches a routing table and sends reads and writes where it says. The core flows (add, search,
get, history, delete) must behave as over bolt://, including read-your-writes: each read runs
after the write it follows, in a new transaction that waits for the write's bookmark."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from graphmem import GraphMemory, Settings
from graphmem.embed.base import Embedder
from graphmem.llm import OfflineLLM
from graphmem.store.transport import Store

pytestmark = pytest.mark.neo4j


@pytest.fixture
def routed(neo4j_settings: Settings, embedder: Embedder) -> Iterator[GraphMemory]:
    uri = neo4j_settings.bolt_uri
    if not uri.startswith("bolt://"):
        pytest.fail(f"expected a bolt:// test server, got {uri}")
    settings = neo4j_settings.model_copy(
        update={"neo4j_uri": "neo4j://" + uri.removeprefix("bolt://"), "neo4j_password": neo4j_settings.password()}
    )
    store = Store.connect(settings)
    assert store.uri.startswith("neo4j://")
    memory = GraphMemory(store, llm=OfflineLLM(), embedder=embedder, settings=settings)
    try:
        yield memory
    finally:
        store.close()


def test_core_flows_over_a_routing_uri(routed: GraphMemory) -> None:
    user = f"test-routing-{uuid.uuid4().hex[:8]}"
    try:
        first = routed.add("I live in Paris and I work at Siemens.", user_id=user)
        assert first.added
        # read-your-writes: the very next read sees the add
        assert {f.target for f in routed.get_all(user_id=user)} >= {"Paris", "Siemens"}
        routed.add("I moved to Rome.", user_id=user)
        hits = routed.search("Where do I live?", user_id=user)
        assert hits and hits[0].fact.target == "Rome", [h.fact.fact for h in hits]
        paris = next(f for f in routed.history("Paris", user_id=user) if f.target == "Paris")
        assert paris.valid_to is not None  # invalidated, kept
        assert routed.stats(user_id=user).invalidated_facts == 1
        assert routed.delete(paris.id, user_id=user) and routed.get(paris.id) is None
    finally:
        routed.delete_all(user_id=user)
