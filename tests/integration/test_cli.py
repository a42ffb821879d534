"""The command line against the real Neo4j: errors, read-only cypher, ingest that survives a kill."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graphmem import Scope
from graphmem.cli import app
from graphmem.store.queries import Queries
from graphmem.store.schema import vector_filters_supported

pytestmark = pytest.mark.neo4j
GRAPHMEM = str(Path(sys.executable).parent / "graphmem")


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_unreachable_server_is_one_clear_line(monkeypatch):
    monkeypatch.setenv("NEO4J_URI", "bolt://127.0.0.1:1")
    monkeypatch.setenv("NEO4J_PASSWORD", "x")
    result = invoke("stats")
    assert result.exit_code == 3
    assert "cannot reach Neo4j at bolt://127.0.0.1:1" in result.output
    assert "NEO4J_URI" in result.output and "Traceback" not in result.output


def test_wrong_password_is_rejected_with_the_fix(cli_env, monkeypatch):
    monkeypatch.setenv("NEO4J_PASSWORD", "definitely-wrong")
    result = invoke("stats")
    assert result.exit_code == 3
    assert "rejected the credentials" in result.output and "NEO4J_PASSWORD" in result.output


def test_bad_setting_names_the_variable(monkeypatch):
    monkeypatch.setenv("NEO4J_URI", "http://localhost:7474")
    result = invoke("stats")
    assert result.exit_code == 4
    assert "NEO4J_URI" in result.output and "bolt://" in result.output


def test_cypher_is_read_only_unless_write(cli_env):
    marker = f"cli-{uuid.uuid4().hex}"
    refused = invoke("cypher", "CREATE (:CliProbe {m: $m})", "--param", f"m={marker}")
    assert refused.exit_code == 2 and "--write" in refused.output
    written = invoke("cypher", "CREATE (:CliProbe {m: $m}) RETURN 1 AS ok", "--param", f"m={marker}", "--write")
    assert written.exit_code == 0
    read = invoke("cypher", "MATCH (n:CliProbe {m: $m}) RETURN count(n) AS n", "--param", f"m={marker}", "--json")
    assert json.loads(read.stdout) == [{"n": 1}]
    invoke("cypher", "MATCH (n:CliProbe {m: $m}) DELETE n", "--param", f"m={marker}", "--write")


def test_init_twice_changes_nothing(cli_env, store):
    first = invoke("init")
    indexes = store.run_text("SHOW INDEXES YIELD name, state RETURN name, state ORDER BY name")
    second = invoke("init")
    assert first.exit_code == second.exit_code == 0
    assert store.run_text("SHOW INDEXES YIELD name, state RETURN name, state ORDER BY name") == indexes
    assert "fact_embedding" in second.output and "ONLINE" in second.output
    # it says which line the server is and what that means for the vector look-ups
    server = Queries(store).server_version()
    said = " ".join(second.output.split())
    assert f"Neo4j {server}:" in said
    assert ("filtered by scope" in said) == vector_filters_supported(server)


def test_bad_transcript_names_file_and_line(cli_env, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"role": "user", "content": "hi"}\n{"role": "user", "content": \n')
    result = invoke("ingest", str(bad), "--user", "x")
    assert result.exit_code == 2
    assert f"{bad}:2" in result.output and "invalid JSON" in result.output


def _transcript(path: Path, turns: int) -> None:
    cities = ["Paris", "London", "Berlin", "Madrid", "Rome", "Vienna", "Oslo", "Lisbon", "Prague", "Dublin"]
    firms = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Wonka"]
    with path.open("w") as f:
        for i in range(turns):
            kind = i % 4
            if kind == 0:
                text = f"I moved to {cities[(i // 4) % len(cities)]}."
            elif kind == 1:
                text = f"My friend Friend{i} lives in {cities[i % len(cities)]}."
            elif kind == 2:
                text = f"I work at {firms[(i // 4) % len(firms)]}."
            else:
                text = f"Friend{i - 2} works at {firms[i % len(firms)]}."
            stamp = f"2025-01-01T00:{(i // 60) % 60:02d}:{i % 60:02d}Z"
            f.write(json.dumps({"role": "user", "name": "Robin", "content": text, "timestamp": stamp}) + "\n")


def _canonical(path: Path) -> list[tuple]:
    data = json.loads(path.read_text())
    names = {n["id"]: n["name"] for n in data["nodes"]}
    return sorted(
        (names[e["source"]], e["relation"], names[e["target"]], e["valid_from"], e["valid_to"], e["mentions"])
        for e in data["edges"]
    )


def _count_messages(store, user: str) -> int:
    return store.run("scope_stats", Scope(user_id=user).params())[0]["messages"]


def test_ingest_killed_halfway_then_rerun_equals_uninterrupted(cli_env, tmp_path, store, new_user):
    """The killed run and its resume are pipelined (--concurrency 4); the clean one is serial."""
    transcript = tmp_path / "long.jsonl"
    _transcript(transcript, 500)
    killed, clean = new_user("killed"), new_user("clean")

    proc = subprocess.Popen(
        [GRAPHMEM, "ingest", str(transcript), "--user", killed, "--concurrency", "4"],
        env=cli_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while _count_messages(store, killed) < 150 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.5)
    assert proc.poll() is None, "ingest finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = _count_messages(store, killed)
    assert 150 <= partial < 500

    resumed = subprocess.run(
        [GRAPHMEM, "ingest", str(transcript), "--user", killed, "--json", "--concurrency", "4"],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["skipped"] == partial

    result = invoke("ingest", str(transcript), "--user", clean, "--json")
    assert result.exit_code == 0
    for user in (killed, clean):
        assert invoke("export", "--user", user, "-o", str(tmp_path / f"{user}.json")).exit_code == 0
    assert _canonical(tmp_path / f"{killed}.json") == _canonical(tmp_path / f"{clean}.json")
    assert _count_messages(store, killed) == _count_messages(store, clean) == 500

    again = invoke("ingest", str(transcript), "--user", clean, "--json")
    assert json.loads(again.stdout)["skipped"] == 500 and json.loads(again.stdout)["added"] == 0
