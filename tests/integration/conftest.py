"""A real Neo4j for the test run, in this order of preference:

1. the server named by NEO4J_URI (with NEO4J_USER / NEO4J_PASSWORD);
2. testcontainers' Neo4j 5.26 when a Docker engine answers;
3. the managed local Neo4j, started for the run in its own home and ports
   (GRAPHMEM_TEST_HOME, default ~/.cache/graphmem/test-server; Bolt 7688, HTTP 7475),
   so a developer's own memory is never touched. With GRAPHMEM_TEST_NEO4J_VERSION (e.g.
   2026.08.1, the other line CI also runs a subset on), that release instead, in
   ~/.cache/graphmem/test-server-<version> on Bolt 7689, HTTP 7479.

Tests write into scopes with random ids and delete them afterwards.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from graphmem import GraphMemory, Scope, Settings, load_settings
from graphmem._settings import default_home
from graphmem.embed.base import Embedder
from graphmem.llm import LLM, OfflineLLM
from graphmem.store.transport import Store

GRAPHMEM = str(Path(sys.executable).parent / "graphmem")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def neo4j_settings() -> Iterator[Settings]:
    if os.environ.get("NEO4J_URI"):
        yield load_settings()
        return
    version = os.environ.get("GRAPHMEM_TEST_NEO4J_VERSION")
    if _docker_answers() and not version:  # the other line is always the managed server
        from testcontainers.neo4j import Neo4jContainer

        with Neo4jContainer("neo4j:5.26-community", password="graphmem-test-pw") as container:
            yield load_settings(
                neo4j_uri=container.get_connection_url(), neo4j_user="neo4j", neo4j_password="graphmem-test-pw"
            )
        return
    from graphmem import _managed_neo4j

    if version:
        home = default_home() / f"test-server-{version}"
        settings = load_settings(home=home, bolt_port=7689, http_port=7479, neo4j_uri=None, neo4j_version=version)
    else:
        settings = load_settings(home=_test_home(), bolt_port=7688, http_port=7475, neo4j_uri=None)
    _managed_neo4j.ensure_running(settings)
    yield settings


def _test_home() -> Path:
    return Path(os.environ.get("GRAPHMEM_TEST_HOME", default_home() / "test-server"))


@pytest.fixture(scope="session")
def store(neo4j_settings: Settings) -> Iterator[Store]:
    store = Store.connect(neo4j_settings)
    yield store
    store.close()


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    from graphmem.embed.minilm import MiniLMEmbedder

    return MiniLMEmbedder()


@pytest.fixture(scope="session")
def delete_tenants(store: Store):
    """delete(prefix): every entity and message whose user, agent or run id starts with prefix."""

    def delete(prefix: str) -> None:
        store.run_text(
            "MATCH (n) WHERE (n:Entity OR n:Message) "
            "AND any(k IN [n.user_id, n.agent_id, n.run_id] WHERE k STARTS WITH $p) DETACH DELETE n",
            {"p": prefix},
            write=True,
        )

    return delete


@pytest.fixture
def cli_env(neo4j_settings: Settings, monkeypatch) -> dict[str, str]:
    """The CLI pointed at the test server, offline, whatever the developer's shell holds; the
    same environment as a dict, for subprocesses."""
    for key in list(os.environ):
        if key.startswith(("GRAPHMEM_", "OPENAI_", "NEO4J_")):
            monkeypatch.delenv(key)
    env = {
        "NEO4J_URI": neo4j_settings.bolt_uri,
        "NEO4J_USER": neo4j_settings.neo4j_user,
        "NEO4J_PASSWORD": neo4j_settings.password(),
        "GRAPHMEM_LLM_PROVIDER": "offline",
        "HF_HUB_OFFLINE": "1",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return {**os.environ, **env}


@pytest.fixture
def scope_ids(store: Store) -> Iterator[list[str]]:
    """Fresh user ids for a test; everything written under them is deleted afterwards."""
    ids: list[str] = []
    yield ids
    for user_id in ids:
        store.run("delete_scope", Scope(user_id=user_id).params(), write=True)


@pytest.fixture
def new_user(scope_ids: list[str]):
    def make(prefix: str = "u") -> str:
        user_id = f"test-{prefix}-{uuid.uuid4().hex[:10]}"
        scope_ids.append(user_id)
        return user_id

    return make


@pytest.fixture
def make_memory(store: Store, embedder: Embedder, neo4j_settings: Settings):
    def make(llm: LLM | None = None, **kwargs) -> GraphMemory:
        return GraphMemory(store, llm=llm or OfflineLLM(), embedder=embedder, settings=neo4j_settings, **kwargs)

    return make


@pytest.fixture
def memory(make_memory) -> GraphMemory:
    return make_memory()


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A managed Neo4j of the test module's own (temporary home, free ports, the jars shared
    from ~/.cache/graphmem), for tests that stop it. The shared test server is never stopped."""
    from graphmem import _managed_neo4j

    home = tmp_path_factory.mktemp("own-server-home")
    bolt, http = free_port(), free_port()
    while http == bolt:
        http = free_port()
    settings = Settings(home=home, bolt_port=bolt, http_port=http, neo4j_uri=None, neo4j_user="neo4j", heap="512m")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Java 17+ is not installed")
    shared = _managed_neo4j.lib_dir(settings.model_copy(update={"home": _test_home()}))
    if _managed_neo4j.lib_dir(settings) is None and shared is not None:
        # the jars the shared test server downloaded (a fresh machine has no others)
        (home / "neo4j" / settings.neo4j_version).mkdir(parents=True)
        (home / "neo4j" / settings.neo4j_version / "lib").symlink_to(shared)
    if _managed_neo4j.lib_dir(settings) is None:
        pytest.skip("the Neo4j jars are not installed in ~/.cache/graphmem (run `graphmem neo4j start` once)")
    _managed_neo4j.start(settings, wait_seconds=240)
    try:
        yield settings
    finally:
        _managed_neo4j.stop(settings)


@pytest.fixture(scope="module")
def own_env(own_server: Settings) -> dict[str, str]:
    """The environment of a graphmem process on `own_server`: offline, and the hashing
    embedder (a server of its own: no model to share or to load)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "GRAPHMEM_", "NEO4J_"))}
    env.update(
        {
            "NEO4J_URI": f"bolt://127.0.0.1:{own_server.bolt_port}",
            "NEO4J_PASSWORD": own_server.password_file.read_text().strip(),
            "GRAPHMEM_LLM_PROVIDER": "offline",
            "GRAPHMEM_EMBEDDER": "hashing",
            "HF_HUB_OFFLINE": "1",
        }
    )
    return env


@pytest.fixture(scope="module")
def shared_env(neo4j_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a graphmem process on the shared test server (MiniLM, offline), with
    a GRAPHMEM_HOME of its own (where a generated API token goes)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "GRAPHMEM_", "NEO4J_"))}
    env.update(
        {
            "NEO4J_URI": neo4j_settings.bolt_uri,
            "NEO4J_USER": neo4j_settings.neo4j_user,
            "NEO4J_PASSWORD": neo4j_settings.password(),
            "GRAPHMEM_LLM_PROVIDER": "offline",
            "GRAPHMEM_HOME": str(tmp_path_factory.mktemp("graphmem-home")),
            "HF_HUB_OFFLINE": "1",
        }
    )
    return env


@pytest.fixture(scope="session")
def wait_for_http() -> Callable[..., None]:
    return _wait_for_http


@pytest.fixture(scope="session")
def free_tcp_port() -> Callable[[], int]:
    return free_port


def _wait_for_http(url: str, proc: subprocess.Popen, timeout: float = 180) -> None:
    """Until `url` answers (any status); fails with the process's output if it exits first."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the server exited with {proc.returncode} before answering:\n{out}\n{err}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.3)
    pytest.fail(f"{url} did not answer within {timeout:.0f} s")


@pytest.fixture(scope="session")
def spawn() -> Iterator[Callable[..., subprocess.Popen]]:
    """spawn(args, env): a graphmem process, killed at the end of the run if still running."""
    procs: list[subprocess.Popen] = []

    def start(args: list[str], env: dict[str, str]) -> subprocess.Popen:
        proc = subprocess.Popen([GRAPHMEM, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
