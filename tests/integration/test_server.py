"""The managed local Neo4j: install, start, auth, browser, persistence across restarts, stop.

Self-contained (no conftest fixtures): a temporary GRAPHMEM_HOME and free ports picked at
run time, so a Neo4j already running on 7687/7474 is never touched. The jars are shared
from $GRAPHMEM_NEO4J_LIB or the default home when installed there (see graphmem._managed_neo4j);
otherwise the first run downloads them (~60 s).
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from neo4j import GraphDatabase
from neo4j.exceptions import AuthError

from graphmem import _managed_neo4j
from graphmem._errors import ConfigError, ServerError
from graphmem._settings import Settings

pytestmark = pytest.mark.neo4j


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _settings(home: Path, **overrides: object) -> Settings:
    bolt = _free_port()
    http = _free_port()
    while http == bolt:
        http = _free_port()
    # Explicit values win over any GRAPHMEM_* / NEO4J_* variables of the developer's shell.
    values: dict[str, object] = {
        "home": home,
        "bolt_port": bolt,
        "http_port": http,
        "neo4j_uri": None,
        "neo4j_user": "neo4j",
        "heap": "512m",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def _needs_java() -> None:
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Java 17+ is not installed")


def _needs_jars(settings: Settings) -> None:
    _needs_java()
    if _managed_neo4j.lib_dir(settings) is None and shutil.which("mvn") is None:
        pytest.skip("Neo4j jars are not installed and Maven is missing to download them")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    settings = _settings(tmp_path_factory.mktemp("graphmem-home"))
    _needs_jars(settings)
    started = time.monotonic()
    _managed_neo4j.start(settings, wait_seconds=180)
    print(f"first start took {time.monotonic() - started:.1f} s")
    try:
        yield settings
    finally:
        _managed_neo4j.stop(settings)


def _driver(settings: Settings, password: str | None = None):  # noqa: ANN202
    secret = password if password is not None else settings.password_file.read_text().strip()
    return GraphDatabase.driver(f"bolt://127.0.0.1:{settings.bolt_port}", auth=(settings.neo4j_user, secret))


def test_start_reports_running(server: Settings) -> None:
    status = _managed_neo4j.status(server)
    assert status.running
    assert status.version is not None and status.version.startswith("5.26")
    assert status.edition == "community"
    assert status.pid is not None
    assert status.bolt_uri == f"bolt://127.0.0.1:{server.bolt_port}"
    assert status.http_url == f"http://127.0.0.1:{server.http_port}"
    assert {"running", "version", "bolt_uri", "http_url"} <= status.to_json().keys()
    pid_file = Path(status.home) / "run" / "graphmem-neo4j.pid"
    assert pid_file.read_text().strip() == str(status.pid)
    conf = (Path(status.home) / "conf" / "neo4j.conf").read_text()
    assert f"server.bolt.listen_address=127.0.0.1:{server.bolt_port}" in conf
    assert f"server.memory.pagecache.size={server.pagecache}" in conf


def test_start_again_is_a_no_op(server: Settings) -> None:
    before = _managed_neo4j.status(server).pid
    started = time.monotonic()
    again = _managed_neo4j.ensure_running(server)
    assert again.running and again.pid == before
    assert time.monotonic() - started < 10


def test_wrong_password_is_rejected(server: Settings) -> None:
    with _driver(server, "not-the-password") as driver, pytest.raises(AuthError):
        driver.verify_connectivity()


def test_password_file_is_private(server: Settings) -> None:
    assert stat.S_IMODE(server.password_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(server.password_file.parent.stat().st_mode) == 0o700
    password = server.password_file.read_text().strip()
    assert len(password) >= 20
    # Passed to neo4j-admin through a temporary argument file: none may be left behind.
    assert not list((server.home / "neo4j" / "server" / "run").glob(".initial-password-*"))
    for log_file in (server.home / "neo4j" / "server" / "logs").glob("*.log"):
        assert password not in log_file.read_text(errors="replace")


def test_browser_is_served(server: Settings) -> None:
    with urllib.request.urlopen(f"http://127.0.0.1:{server.http_port}/browser/", timeout=10) as response:
        assert response.status == 200
        assert "Neo4j Browser" in response.read().decode("utf-8", "replace")


def test_data_survives_a_restart(server: Settings) -> None:
    with _driver(server) as driver:
        driver.execute_query("CREATE (:ServerTest {name: $name})", name="kept")

    assert _managed_neo4j.stop(server) is True
    stopped = _managed_neo4j.status(server)
    assert not stopped.running and stopped.pid is None
    assert stopped.version == server.neo4j_version  # the installed version, from the jars
    assert not (server.home / "neo4j" / "server" / "run" / "graphmem-neo4j.pid").exists()
    assert _managed_neo4j.stop(server) is False

    started = time.monotonic()
    restarted = _managed_neo4j.start(server, wait_seconds=180)
    print(f"restart took {time.monotonic() - started:.1f} s")
    assert restarted.running
    with _driver(server) as driver:
        records, _, _ = driver.execute_query("MATCH (n:ServerTest) RETURN n.name AS name")
    assert [r["name"] for r in records] == ["kept"]


def test_stale_pid_file_is_removed(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    pid_file = tmp_path / "neo4j" / "server" / "run" / "graphmem-neo4j.pid"
    pid_file.parent.mkdir(parents=True)
    pid_file.write_text(f"{os.getpid()}\n")  # alive, but not a Neo4j: must not count as the server
    status = _managed_neo4j.status(settings)
    assert not status.running and status.pid is None
    assert not pid_file.exists()
    assert _managed_neo4j.stop(settings) is False


def test_taken_port_is_named(tmp_path: Path) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        settings = _settings(tmp_path, bolt_port=blocker.getsockname()[1])
        with pytest.raises(ServerError, match=rf"port {settings.bolt_port}.*GRAPHMEM_BOLT_PORT"):
            _managed_neo4j.start(settings)


@pytest.mark.parametrize(
    ("field", "value", "env"),
    [
        ("heap", "lots", "GRAPHMEM_NEO4J_HEAP"),
        ("pagecache", "2 GB", "GRAPHMEM_NEO4J_PAGECACHE"),
        ("neo4j_version", "5.26", "GRAPHMEM_NEO4J_VERSION"),
    ],
)
def test_bad_settings_are_named(tmp_path: Path, field: str, value: str, env: str) -> None:
    with pytest.raises(ConfigError, match=env):
        _managed_neo4j.start(_settings(tmp_path, **{field: value}))


def test_bad_lib_override_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAPHMEM_NEO4J_LIB", str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError, match="GRAPHMEM_NEO4J_LIB"):
        _managed_neo4j.install(_settings(tmp_path))


def test_crash_during_start_shows_the_log(tmp_path: Path) -> None:
    settings = _settings(tmp_path, heap="1k")  # the JVM refuses such a heap and exits at once
    _needs_jars(settings)
    with pytest.raises(ServerError, match="exited while starting") as caught:
        _managed_neo4j.start(settings, wait_seconds=60)
    assert "heap" in str(caught.value).lower()
    assert _managed_neo4j.status(settings).pid is None
