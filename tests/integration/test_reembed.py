"""`graphmem init --reembed` against a real Neo4j of this module's own (the shared test database
holds the 384-dim MiniLM schema other tests rely on: nothing here touches it). A memory built
with the 32-dim hashing embedder moves to the 64-dim one (another model name and dimension):
every stored vector is made again from its text, the vector indexes end online at 64, a stopped
run goes on where it stopped, and nothing opens the memory while it is unfinished."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from graphmem import GraphMemory, LLMError, SchemaError, Settings
from graphmem.embed import HashingEmbedder
from graphmem.embed.base import Embedder
from graphmem.llm import OfflineLLM
from graphmem.store.queries import Queries
from graphmem.store.reembed import KINDS, PROBE, plan_reembed, reembed
from graphmem.store.schema import VECTOR_INDEXES, read_status
from graphmem.store.transport import Store

pytestmark = pytest.mark.neo4j

GRAPHMEM = str(Path(sys.executable).parent / "graphmem")
USER = "reembed-user"
TRIPLETS = [
    {"source": "Alice", "relation": "works_at", "target": "Acme"},
    {"source": "Bob", "relation": "likes", "target": "green tea"},
    {"source": "Carol", "relation": "lives_in", "target": "Lisbon"},
    {"source": "Alice", "relation": "knows", "target": "Bob"},
]
TURNS = ["I moved to Paris last week.", "My sister Dana plays the cello."]


@pytest.fixture(scope="module")
def settings(own_server: Settings, own_env: dict[str, str]) -> Settings:
    return own_server.model_copy(
        update={"neo4j_uri": own_env["NEO4J_URI"], "neo4j_password": own_env["NEO4J_PASSWORD"], "search_cache_mb": 0}
    )


@pytest.fixture(scope="module")
def own_store(settings: Settings) -> Iterator[Store]:
    store = Store.connect(settings)
    yield store
    store.close()


@pytest.fixture
def built(own_store: Store, settings: Settings) -> Queries:
    """A new memory built with the 32-dim hashing embedder: entities, facts and turns."""
    own_store.run_text("MATCH (n) DETACH DELETE n", write=True)  # the schema record too
    queries = Queries(own_store)
    queries.schema_statements("schema_drop_vector")
    memory = _open(own_store, settings, HashingEmbedder(32))
    memory.add_triplets(TRIPLETS, user_id=USER)
    for turn in TURNS:
        memory.add([{"role": "user", "content": turn}], user_id=USER)
    counts = queries.count_data()
    assert counts["entities"] >= 8 and counts["facts"] >= 5 and counts["messages"] == 2, counts
    assert set(read_status(queries).index_dims.values()) == {32}
    return queries


class Counting(Embedder):
    """The embedder under test, counting the stored texts it is asked to embed (not the probe
    a run starts with)."""

    def __init__(self, inner: Embedder):
        self.inner, self.dim, self.model_name = inner, inner.dim, inner.model_name
        self.texts: list[str] = []
        self.probes = 0

    def embed(self, texts: list[str]) -> list[list[float]]:
        self.probes += texts.count(PROBE)
        self.texts.extend(t for t in texts if t != PROBE)
        return self.inner.embed(texts)


class Unreachable(HashingEmbedder):
    """An embedder whose endpoint does not answer (a wrong URL or key)."""

    def embed(self, texts: list[str]) -> list[list[float]]:
        raise LLMError("embeddings: could not be reached")


class Reversed(HashingEmbedder):
    """Another model at the same dimension: the hashing vectors, reversed."""

    def __init__(self, dim: int):
        super().__init__(dim)
        self.model_name = f"reversed-{dim}"

    def embed(self, texts: list[str]) -> list[list[float]]:
        return [v[::-1] for v in super().embed(texts)]


class Stop(Exception):
    pass


def _open(store: Store, settings: Settings, embedder: Embedder) -> GraphMemory:
    return GraphMemory(store, llm=OfflineLLM(), embedder=embedder, settings=settings)


def _stored(store: Store) -> dict[str, list[tuple[str, list[float] | None]]]:
    """(text, vector) of every entity, fact and turn: the text each embedding is made from."""
    return {
        "entities": [(r["t"], r["v"]) for r in store.run_text("MATCH (e:Entity) RETURN e.name AS t, e.embedding AS v")],
        "facts": [
            (r["t"], r["v"]) for r in store.run_text("MATCH ()-[f:FACT]->() RETURN f.fact AS t, f.embedding AS v")
        ],
        "messages": [
            (r["t"], r["v"]) for r in store.run_text("MATCH (m:Message) RETURN m.content AS t, m.embedding AS v")
        ],
    }


def _assert_embedded_with(store: Store, embedder: Embedder) -> None:
    for kind, items in _stored(store).items():
        assert items, kind
        for text, vector in items:
            assert vector is not None and len(vector) == embedder.dim, (kind, text)
            assert vector == pytest.approx(embedder.embed_one(text), abs=1e-6), (kind, text)


def _assert_schema(queries: Queries, model: str, dim: int) -> None:
    status = read_status(queries)
    assert (status.model, status.dim) == (model, dim)
    assert (status.reembed_model, status.reembed_dim) == (None, None)
    assert status.index_dims == dict.fromkeys(VECTOR_INDEXES, dim)
    assert all(status.indexes[name] == "ONLINE" for name in VECTOR_INDEXES)
    assert status.ready


def _assert_indexed(store: Store, embedder: Embedder) -> None:
    """Each vector index holds every item of its kind: a vector of another length than the
    index's would be stored but left out. (Which item comes first is not asserted: Neo4j
    quantizes indexed vectors, and the hashing embedder's sparse ones rank coarsely.)"""
    query = embedder.embed_one("Alice works at Acme")
    for index, search, items in (
        ("entity_embedding", "CALL db.index.vector.queryNodes($index, 1000, $v) YIELD node AS x", "MATCH (x:Entity)"),
        (
            "fact_embedding",
            "CALL db.index.vector.queryRelationships($index, 1000, $v) YIELD relationship AS x",
            "MATCH ()-[x:FACT]->()",
        ),
        ("message_embedding", "CALL db.index.vector.queryNodes($index, 1000, $v) YIELD node AS x", "MATCH (x:Message)"),
    ):
        found = store.run_text(search + " RETURN collect(x.id) AS ids", {"index": index, "v": query})[0]["ids"]
        stored = store.run_text(items + " RETURN collect(x.id) AS ids")[0]["ids"]
        assert sorted(found) == sorted(stored), index


def _cli(env: dict[str, str], dim: int, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**env, "GRAPHMEM_EMBEDDER": "hashing", "GRAPHMEM_EMBEDDING_DIM": str(dim)}
    return subprocess.run([GRAPHMEM, "init", *args], env=env, capture_output=True, text=True, timeout=300)


def test_cli_re_embeds_every_vector_with_the_new_embedder(built: Queries, own_store, own_env, settings):
    refused = _cli(own_env, 64)  # plain init refuses the memory of another embedder, naming the fix
    assert refused.returncode == 6, refused.stderr
    assert "graphmem init --reembed" in " ".join(refused.stderr.split())

    done = _cli(own_env, 64, "--reembed")

    assert done.returncode == 0, done.stderr
    assert "re-embedded with hashing-64 (64 dims)" in " ".join(done.stdout.split())
    _assert_embedded_with(own_store, HashingEmbedder(64))
    _assert_schema(built, "hashing-64", 64)
    _assert_indexed(own_store, HashingEmbedder(64))
    hits = _open(own_store, settings, HashingEmbedder(64)).search("Where does Alice work?", user_id=USER)
    assert "Alice works at Acme" in [hit.fact.fact for hit in hits]
    with pytest.raises(SchemaError, match="holds 64-dimensional vectors .*hashing-32"):
        _open(own_store, settings, HashingEmbedder(32))
    again = _cli(own_env, 64, "--reembed")  # nothing left: changes nothing
    assert again.returncode == 0, again.stderr
    assert "nothing to re-embed" in " ".join(again.stdout.split())


def test_a_stopped_re_embedding_blocks_the_memory_and_resumes_where_it_stopped(built: Queries, own_store, settings):
    total = sum(len(items) for items in _stored(own_store).values())
    first = Counting(HashingEmbedder(64))

    def stop_after_the_first_batch(step: str, n: int) -> None:
        raise Stop

    with pytest.raises(Stop):
        reembed(built, first, batch=3, progress=stop_after_the_first_batch)

    assert len(first.texts) == 3  # one batch, committed before the progress call
    status = read_status(built)
    assert (status.reembed_model, status.reembed_dim) == ("hashing-64", 64)
    assert status.index_dims == {}  # dropped before the new vectors were written
    for embedder in (HashingEmbedder(64), HashingEmbedder(32)):  # neither the new nor the old embedder
        with pytest.raises(SchemaError, match="was stopped before it finished") as raised:
            _open(own_store, settings, embedder)
        assert "`graphmem init --reembed`" in str(raised.value)

    second = Counting(HashingEmbedder(64))
    plan, done = reembed(built, second, batch=3)

    assert plan.action == "resume" and plan.after["entities"] != ""
    assert len(second.texts) == total - 3  # the first batch was not embedded again
    assert sum(done.values()) == total - 3
    assert sorted(first.texts + second.texts) == sorted(t for items in _stored(own_store).values() for t, _ in items)
    _assert_embedded_with(own_store, HashingEmbedder(64))
    _assert_schema(built, "hashing-64", 64)
    _assert_indexed(own_store, HashingEmbedder(64))
    assert not plan_reembed(built, HashingEmbedder(64)).needed
    _open(own_store, settings, HashingEmbedder(64))  # opens again


def test_an_embedder_that_does_not_answer_changes_nothing(built: Queries, own_store, settings):
    """Tried once before the target is recorded or an index dropped: the memory stays as it was."""
    with pytest.raises(LLMError, match="could not be reached"):
        reembed(built, Unreachable(64), batch=2)
    status = read_status(built)
    assert status.reembed_model is None and set(status.index_dims.values()) == {32}
    _open(own_store, settings, HashingEmbedder(32)).search("Alice", user_id=USER)  # opens and searches as before


def test_a_stopped_re_embedding_given_another_target_starts_over(built: Queries, own_store, own_env):
    def stop(step: str, n: int) -> None:
        raise Stop

    with pytest.raises(Stop):
        reembed(built, HashingEmbedder(64), batch=2, progress=stop)
    blocked = _cli(own_env, 48)  # plain init refuses too, naming the fix
    assert blocked.returncode == 6 and "graphmem init --reembed" in " ".join(blocked.stderr.split())

    counting = Counting(HashingEmbedder(48))
    plan, done = reembed(built, counting, batch=2)

    assert plan.action == "restart"
    assert sum(done.values()) == len(counting.texts) == sum(len(items) for items in _stored(own_store).values())
    _assert_embedded_with(own_store, HashingEmbedder(48))
    _assert_schema(built, "hashing-48", 48)


def test_another_model_at_the_same_dimension_keeps_the_vector_indexes(built: Queries, own_store, settings):
    ids = {r["name"]: r["id"] for r in own_store.run_text("SHOW VECTOR INDEXES YIELD name, id RETURN name, id")}
    with pytest.raises(SchemaError, match="embedded with hashing-32 but the configured embedder is reversed-32"):
        _open(own_store, settings, Reversed(32))

    plan, done = reembed(built, Reversed(32), batch=4)

    assert plan.action == "start" and not plan.drop_vector_indexes
    assert all(done[kind] for kind in KINDS)
    assert {r["name"]: r["id"] for r in own_store.run_text("SHOW VECTOR INDEXES YIELD name, id RETURN name, id")} == ids
    _assert_embedded_with(own_store, Reversed(32))
    _assert_schema(built, "reversed-32", 32)
    _assert_indexed(own_store, Reversed(32))
    hits = _open(own_store, settings, Reversed(32)).search("Where does Alice work?", user_id=USER, mode="triplet")
    assert hits and hits[0].fact.fact == "Alice works at Acme"


def test_ctrl_c_stops_the_cli_after_a_batch_and_a_second_run_goes_on(built: Queries, own_store, own_env):
    own_store.run_text(
        "UNWIND range(1, 20000) AS i CREATE (:Message {id: 'bulk-' + toString(100000 + i), "
        "content: 'bulk turn ' + toString(i), user_id: $user})",
        {"user": USER},
        write=True,
    )
    env = {**own_env, "GRAPHMEM_EMBEDDER": "hashing", "GRAPHMEM_EMBEDDING_DIM": "64"}
    proc = subprocess.Popen(
        [GRAPHMEM, "init", "--reembed", "--batch-size", "5"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 120
        while not built.reembed_read()["messages_after"]:  # a batch of turns has committed
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    stderr = " ".join(err.decode().split())
    assert proc.returncode == 130, stderr
    assert "run `graphmem init --reembed` again to go on where it stopped" in stderr
    stopped = built.reembed_read()
    assert (stopped["model"], stopped["dim"]) == ("hashing-64", 64)
    left = built.reembed_remaining(entities_after="", facts_after="", messages_after=stopped["messages_after"] or "")
    assert 0 < left["messages"] < 20000 + len(TURNS)

    resumed = _cli(own_env, 64, "--reembed")

    assert resumed.returncode == 0, resumed.stderr
    assert "resuming the re-embedding" in " ".join(resumed.stderr.split())
    assert f"{left['messages']:,} turns" in " ".join(resumed.stdout.split())  # only what was left
    _assert_embedded_with(own_store, HashingEmbedder(64))
    _assert_schema(built, "hashing-64", 64)
