"""GRAPHMEM_EMBEDDER=openai end to end: the real CLI on a Neo4j of the module's own, embedding
through an OpenAI-compatible endpoint on 127.0.0.1 (tests/unit/_embedding_stub.py) that makes
64-dimensional vectors. The shared test database is MiniLM's (384): a 64-dimensional schema
there would break every other test, hence `own_server`."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from graphmem import Settings
from graphmem.embed.hashing import HashingEmbedder
from graphmem.store.transport import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))  # the stub is shared with the unit tests
from _embedding_stub import EmbeddingStub  # noqa: E402

pytestmark = pytest.mark.neo4j

GRAPHMEM = str(Path(sys.executable).parent / "graphmem")
MODEL, DIM = "stub-embed", 64
USER = "endpoint-user"
TURNS = [
    "I work at Acme.",
    "My friend Alice lives in Paris.",
    "I moved to Berlin.",
    "Alice works at Globex.",
]


@pytest.fixture(scope="module")
def stub() -> Iterator[EmbeddingStub]:
    server = EmbeddingStub(dim=DIM).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def env(own_env: dict[str, str], stub: EmbeddingStub, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return {
        **own_env,
        "GRAPHMEM_HOME": str(tmp_path_factory.mktemp("endpoint-home")),
        "GRAPHMEM_LLM_PROVIDER": "offline",
        "GRAPHMEM_EMBEDDER": "openai",
        "GRAPHMEM_EMBEDDING_BASE_URL": stub.url,
        "GRAPHMEM_EMBEDDING_MODEL": MODEL,
        "GRAPHMEM_EMBEDDING_DIM": str(DIM),
    }


@pytest.fixture(scope="module")
def own_store(own_server: Settings, own_env: dict[str, str]) -> Iterator[Store]:
    settings = own_server.model_copy(
        update={"neo4j_uri": own_env["NEO4J_URI"], "neo4j_password": own_env["NEO4J_PASSWORD"]}
    )
    store = Store.connect(settings)
    yield store
    store.close()


def graphmem(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([GRAPHMEM, *args], env=env, capture_output=True, text=True, timeout=300)


def requests_during(
    stub: EmbeddingStub, env: dict[str, str], *args: str
) -> tuple[subprocess.CompletedProcess[str], int]:
    """The command's result and how many embeddings requests the stub saw while it ran."""
    before = stub.count
    result = graphmem(env, *args)
    assert result.returncode == 0, f"graphmem {' '.join(args)} exited {result.returncode}:\n{result.stderr}"
    return result, stub.count - before


def test_the_cli_embeds_through_the_endpoint_and_the_schema_records_it(
    stub: EmbeddingStub, env: dict[str, str], own_store: Store, tmp_path: Path
) -> None:
    _, init_requests = requests_during(stub, env, "init")
    assert init_requests == 0  # the schema needs the dimension only: no connection to the endpoint

    record = own_store.run("schema_read")[0]
    assert (record["model"], record["dim"]) == (MODEL, DIM)
    dims = own_store.run_text(
        "SHOW VECTOR INDEXES YIELD name, options RETURN name, options.indexConfig['vector.dimensions'] AS dim"
    )
    assert {r["name"]: r["dim"] for r in dims} == {
        "entity_embedding": DIM,
        "fact_embedding": DIM,
        "message_embedding": DIM,
    }

    transcript = tmp_path / "turns.jsonl"
    transcript.write_text("".join(json.dumps({"role": "user", "content": t}) + "\n" for t in TURNS))
    adds = len(TURNS) // 2
    result, ingest_requests = requests_during(
        stub, env, "ingest", str(transcript), "--user", USER, "--batch", "2", "--json"
    )
    stats = json.loads(result.stdout)
    assert stats["messages"] == len(TURNS) and stats["added"] >= 1, stats
    assert ingest_requests == adds  # one batched embeddings call per add
    first_add = stub.requests[-adds]
    assert first_add["model"] == MODEL and "dimensions" not in first_add
    assert TURNS[0] in first_add["input"] and TURNS[1] in first_add["input"]  # the turns are embedded with the facts

    result, search_requests = requests_during(
        stub, env, "search", "where does Alice live", "--user", USER, "--mode", "hybrid", "--json"
    )
    assert search_requests == 1
    assert stub.requests[-1]["input"] == ["where does Alice live"]
    facts = " ".join(json.dumps(hit) for hit in json.loads(result.stdout)["facts"])
    assert "Alice" in facts and "Paris" in facts, result.stdout

    # what was stored is the endpoint's vectors, made unit length (the stub's are not)
    stored = own_store.run_text(
        "MATCH (m:Message {user_id: $u}) RETURN m.content AS content, m.embedding AS embedding", {"u": USER}
    )
    assert sorted(r["content"] for r in stored) == sorted(TURNS)
    for row in stored:
        want = HashingEmbedder(DIM).embed_one(row["content"])
        assert all(math.isclose(a, b, abs_tol=1e-6) for a, b in zip(row["embedding"], want, strict=True))
    fact_rows = own_store.run_text(
        "MATCH ()-[f:FACT]->() RETURN count(f) AS n, sum(CASE WHEN size(f.embedding) = $dim THEN 1 ELSE 0 END) AS ok",
        {"dim": DIM},
    )[0]
    assert fact_rows["n"] == fact_rows["ok"] >= 1

    # the default (associative) search finds it too; a fresh process also embeds the query's
    # aspect words and the relation names it walks (cached per process), so more than one call
    result, _ = requests_during(stub, env, "search", "where does Alice live", "--user", USER, "--json")
    facts = " ".join(json.dumps(hit) for hit in json.loads(result.stdout)["facts"])
    assert "Alice" in facts and "Paris" in facts, result.stdout

    # the default embedder (MiniLM, 384) refuses this database, naming both
    minilm = {k: v for k, v in env.items() if not k.startswith("GRAPHMEM_EMBEDD")}
    before = stub.count
    refused = graphmem(minilm, "search", "where does Alice live", "--user", USER)
    assert refused.returncode == 6, refused.stdout + refused.stderr  # SchemaError
    message = refused.stdout + refused.stderr
    assert "64" in message and "384" in message and MODEL in message and "MiniLM" in message, message
    assert "Traceback" not in message
    assert stub.count == before
