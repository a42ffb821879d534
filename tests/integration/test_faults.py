"""Faults: Neo4j stopped in the middle of an ingest, LLM failures, transient Bolt errors.

(a) runs the CLI as a subprocess against a managed Neo4j of its own (temporary home, free
ports, the jars shared from ~/.cache/graphmem), stops that server mid-ingest, restarts it
and re-runs: exit code 3 naming the server, nothing partial, no duplicates. The shared
test server is never stopped.
(b) drives an ingest through OpenAILLM against a fake endpoint (httpx MockTransport) that
times out, rate-limits, and answers malformed or schema-violating JSON for some batches.
(c) raises a TransientError inside the write transaction once: retried, written once.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import openai
import pytest
from neo4j.exceptions import Neo4jError, TransientError
from typer.testing import CliRunner

try:  # openai>=3 is built on httpx2; older releases on httpx
    import httpx2 as httpx
except ImportError:  # pragma: no cover
    import httpx  # type: ignore[no-redef]

from graphmem import GraphMemory, Scope, _managed_neo4j
from graphmem._errors import LLMError
from graphmem._models import Message
from graphmem._settings import Settings
from graphmem.cli import app
from graphmem.embed import HashingEmbedder
from graphmem.llm import OpenAILLM, ScriptedLLM
from graphmem.store.transport import Store
from graphmem.write.ingest import ingest_messages

pytestmark = pytest.mark.neo4j
GRAPHMEM = str(Path(sys.executable).parent / "graphmem")


_NAMES = (
    "Olivia Liam Emma Noah Amelia Oliver Sophia Elijah Isabella Lucas Mia Mateo Harper Ethan Evelyn Levi "
    "Luna Jack Camila Owen Gianna Theodore Ellie Aiden Nora Samuel Hazel Joseph Zoe Henry Riley Wyatt Lily "
    "Julian Aurora Hudson Violet Grayson Nova Ezra"
).split()
_CITIES = "Paris London Berlin Madrid Rome Vienna Oslo Lisbon Prague Dublin Warsaw Athens".split()
_FIRMS = "Acme Globex Initech Umbrella Hooli Stark Wayne Wonka Cyberdyne Tyrell".split()


def _distinct(words: list[str], taken: set[tuple[int, bool]]) -> list[str]:
    """Words whose one-token hashing vectors are all orthogonal: the hashing embedder maps a
    one-word name to a one-hot vector, so two names sharing a slot and sign would be cosine
    1.0 and merged into one node by the matcher, in an order-dependent way."""
    kept = []
    for word in words:
        vec = HashingEmbedder(384).embed([word])[0]
        slot = max(range(384), key=lambda i: abs(vec[i]))
        if (slot, vec[slot] > 0) not in taken:
            taken.add((slot, vec[slot] > 0))
            kept.append(word)
    return kept


def _transcript(path: Path, turns: int) -> list[str]:
    taken: set[tuple[int, bool]] = set()
    robin = _distinct(["Robin"], taken)
    cities, firms, friends = _distinct(_CITIES, taken), _distinct(_FIRMS, taken), _distinct(_NAMES, taken)
    assert robin and len(cities) >= 6 and len(firms) >= 5 and len(friends) >= 20
    ids = []
    with path.open("w") as f:
        for i in range(turns):
            kind, friend = i % 4, friends[(i // 2) % len(friends)]
            if kind == 0:
                text = f"I moved to {cities[(i // 4) % len(cities)]}."
            elif kind == 1:
                text = f"My friend {friend} lives in {cities[i % len(cities)]}."
            elif kind == 2:
                text = f"I work at {firms[(i // 4) % len(firms)]}."
            else:
                text = f"{friends[((i - 2) // 2) % len(friends)]} works at {firms[i % len(firms)]}."
            stamp = f"2025-01-01T{i // 3600:02d}:{(i // 60) % 60:02d}:{i % 60:02d}Z"
            ids.append(f"turn-{i:04d}")
            f.write(
                json.dumps({"role": "user", "name": "Robin", "content": text, "timestamp": stamp, "id": ids[-1]}) + "\n"
            )
    return ids


def _stored_message_ids(store: Store, user: str) -> list[str]:
    rows = store.run_text("MATCH (m:Message) WHERE m.user_id = $u RETURN m.external_id AS id ORDER BY id", {"u": user})
    return [r["id"] for r in rows]


def _facts(store: Store, user: str) -> list[tuple]:
    rows = store.run_text(
        "MATCH (s:Entity)-[f:FACT]->(t:Entity) WHERE f.user_id = $u "
        "RETURN s.name AS s, f.relation AS p, t.name AS t, f.valid_from AS vf, f.valid_to AS vt, "
        "f.mentions AS n, f.message_ids AS mids",
        {"u": user},
    )
    return sorted((r["s"], r["p"], r["t"], str(r["vf"]), str(r["vt"]), r["n"]) for r in rows)


# -- (a) the server goes away mid-ingest ---------------------------------------------------


def test_neo4j_stopped_mid_ingest_exits_3_commits_nothing_partial_and_resumes(
    own_server: Settings, own_env: dict[str, str], tmp_path
):
    env = own_env
    uri = env["NEO4J_URI"]
    transcript = tmp_path / "long.jsonl"
    turns = 200
    ids = _transcript(transcript, turns)
    user, clean = f"faults-{uuid.uuid4().hex[:8]}", f"faults-clean-{uuid.uuid4().hex[:8]}"
    password = env["NEO4J_PASSWORD"]

    proc = subprocess.Popen(
        [GRAPHMEM, "ingest", str(transcript), "--user", user],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        store = Store.connect(own_server.model_copy(update={"neo4j_uri": uri, "neo4j_password": password}))
        deadline = time.monotonic() + 300
        while len(_stored_message_ids(store, user)) < 30 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        store.close()
        assert proc.poll() is None, f"ingest ended before the server was stopped: {proc.communicate()}"
        _managed_neo4j.stop(own_server)
        _, stderr = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 3, stderr
    assert uri in stderr and "Neo4j" in stderr, stderr
    assert "Traceback" not in stderr, stderr

    _managed_neo4j.start(own_server, wait_seconds=240)
    store = Store.connect(own_server.model_copy(update={"neo4j_uri": uri, "neo4j_password": password}))
    try:
        # Nothing partial: each window of 2 turns is one transaction, committed in order, so what
        # is stored is exactly the first 2k turns, and no fact names a turn that is not stored.
        stored = _stored_message_ids(store, user)
        assert 30 <= len(stored) < turns and len(stored) % 2 == 0
        assert stored == ids[: len(stored)]
        rows = store.run_text("MATCH ()-[f:FACT]->() WHERE f.user_id = $u RETURN f.message_ids AS m", {"u": user})
        message_nodes = {
            r["id"] for r in store.run_text("MATCH (m:Message) WHERE m.user_id = $u RETURN m.id AS id", {"u": user})
        }
        assert rows and all(set(r["m"]) <= message_nodes for r in rows)

        resumed = subprocess.run(
            [GRAPHMEM, "ingest", str(transcript), "--user", user, "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert resumed.returncode == 0, resumed.stderr
        stats = json.loads(resumed.stdout)
        assert stats["skipped"] == len(stored) and stats["messages"] == turns - len(stored)

        uninterrupted = subprocess.run(
            [GRAPHMEM, "ingest", str(transcript), "--user", clean, "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert uninterrupted.returncode == 0, uninterrupted.stderr
        assert _stored_message_ids(store, user) == ids == _stored_message_ids(store, clean)
        facts, expected = _facts(store, user), _facts(store, clean)
        assert set(facts) ^ set(expected) == set(), (
            len(stored),
            set(facts) - set(expected),
            set(expected) - set(facts),
        )
        assert facts == expected
        assert len({f[:4] for f in facts}) == len(facts)  # no fact twice
    finally:
        for scope in (user, clean):
            store.run("delete_scope", Scope(user_id=scope).params(), write=True)
        store.close()


# -- (b) the LLM fails for some batches ------------------------------------------------------

_TURN = re.compile(r"^\[\d+\] .*?\| (?P<speaker>\w+) \(user\): I like (?P<thing>\w+)", re.M)


class FlakyEndpoint:
    """A fake OpenAI-compatible endpoint for single-pass extraction: `I like X` -> (speaker, likes, X).

    Turns carrying a marker misbehave: TIMEOUT (always times out), RATE (always 429),
    FLAKY (429 once, then fine), JUNK (malformed JSON, twice), BLANK (a blank entity name,
    twice), NOFIELDS (triplets missing required fields, twice), ONEJUNK (malformed once:
    the re-ask fixes it).
    """

    def __init__(self, healthy: bool = False) -> None:
        self.healthy = healthy
        self.seen: dict[str, int] = {}
        self.requests = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        body = json.loads(request.content)
        name = body["response_format"].get("json_schema", {}).get("name", "")
        user = next(m["content"] for m in body["messages"] if m["role"] == "user")
        if name == "resolution_result":
            return self._ok({"decisions": []})  # the resolver keeps every new fact
        new = user.split("NEW TURNS", 1)[1]
        marker = next(
            (m for m in ("TIMEOUT", "RATE", "FLAKY", "ONEJUNK", "JUNK", "BLANK", "NOFIELDS") if m in new), None
        )
        count = self.seen[new] = self.seen.get(new, 0) + 1
        if not self.healthy and marker:
            if marker == "TIMEOUT":
                raise httpx.ReadTimeout("read timed out")
            if marker == "RATE" or (marker == "FLAKY" and count == 1):
                return httpx.Response(429, json={"error": {"message": "slow down", "type": "rate_limit", "code": None}})
            if marker == "JUNK" or (marker == "ONEJUNK" and count == 1):
                return self._raw('{"entities": [{"name": "Robin", "type": "Per')
            if marker == "BLANK":
                return self._ok({"entities": [{"name": "   ", "type": "Person"}], "triplets": []})
            if marker == "NOFIELDS":
                return self._ok({"entities": [], "triplets": [{"source": "Robin", "confidence": 7}]})
        entities, triplets = [], []
        for m in _TURN.finditer(new):
            entities += [{"name": m["speaker"], "type": "Person"}, {"name": m["thing"], "type": "Thing"}]
            triplets.append(
                {
                    "source": m["speaker"],
                    "source_type": "Person",
                    "relation": "likes",
                    "target": m["thing"],
                    "target_type": "Thing",
                    "fact": f"{m['speaker']} likes {m['thing']}.",
                    "confidence": 1.0,
                }
            )
        return self._ok({"entities": entities, "triplets": triplets})

    def _ok(self, data: dict[str, Any]) -> httpx.Response:
        return self._raw(json.dumps(data))

    @staticmethod
    def _raw(content: str) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "id": "c",
                "object": "chat.completion",
                "created": 0,
                "model": "fake",
                "choices": [
                    {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
            },
        )

    def llm(self) -> OpenAILLM:
        client = openai.OpenAI(
            api_key="sk-fake-key-0000",
            base_url="http://fake/v1",
            http_client=httpx.Client(transport=httpx.MockTransport(self)),
            max_retries=0,
        )
        return OpenAILLM("fake", client=client, max_retries=2, backoff=0.001, backoff_max=0.002, rate_limit_patience=0)


THINGS = [
    "tea",
    "jazz",
    "chess",
    "rain",
    "maps",
    "kites",
    "figs",
    "opera",
    "trains",
    "moss",
    "salt",
    "owls",
    "cats",
    "golf",
    "poetry",
    "sushi",
    "violins",
    "cactus",
    "lemons",
    "hiking",
    "knitting",
    "volcanoes",
    "tango",
    "origami",
]
MARKERS = {1: "TIMEOUT", 3: "RATE", 4: "FLAKY", 6: "JUNK", 8: "BLANK", 9: "NOFIELDS", 10: "ONEJUNK"}  # by batch
FAILING = {1, 3, 6, 8, 9}  # FLAKY and ONEJUNK recover through a retry / the re-ask


def _messages() -> list[Message]:
    out = []
    for i, thing in enumerate(THINGS):
        batch = i // 2
        marker = f" ({MARKERS[batch]})" if batch in MARKERS and i % 2 == 0 else ""
        out.append(
            Message(
                role="user",
                name="Robin",
                content=f"I like {thing}.{marker}",
                id=f"llm-{i}",
                timestamp=f"2025-02-01T00:00:{i:02d}Z",
            )
        )
    return out


def _canonical(memory: GraphMemory, user: str) -> list[tuple]:
    return sorted(
        (f.source, f.relation, f.target, f.valid_from, f.valid_to, f.mentions)
        for f in memory.get_all(user_id=user, include_invalidated=True)
    )


def test_llm_failures_are_reported_per_batch_and_a_rerun_completes(make_memory, new_user, store: Store):
    messages = _messages()
    user, clean = new_user("llm-faults"), new_user("llm-clean")
    flaky = FlakyEndpoint()
    memory = make_memory(llm=flaky.llm(), single_pass=True)

    stats = ingest_messages(memory, messages, user_id=user, batch_size=2, context_size=0)
    failed = {int(re.match(r"messages (\d+)-", f).group(1)) // 2 for f in stats.failures}
    assert failed == FAILING, stats.failures
    text = "\n".join(stats.failures)
    assert "timed out" in text and "429" in text and text.count("does not fit") == 3
    assert "sk-fake-key-0000" not in text
    lost = 2 * len(FAILING)
    assert stats.messages == len(messages) - lost and stats.added == len(messages) - lost

    # The failed batches left nothing behind; every other batch is whole.
    liked = {f.target for f in memory.get_all(user_id=user)}
    assert liked == {t for i, t in enumerate(THINGS) if i // 2 not in failed}
    stored = store.run_text("MATCH (m:Message) WHERE m.user_id = $u RETURN m.external_id AS id", {"u": user})
    assert {r["id"] for r in stored} == {f"llm-{i}" for i in range(len(THINGS)) if i // 2 not in failed}

    # A re-run with a healthy model completes the failed batches only.
    healthy = FlakyEndpoint(healthy=True)
    rerun = ingest_messages(
        make_memory(llm=healthy.llm(), single_pass=True), messages, user_id=user, batch_size=2, context_size=0
    )
    assert rerun.failures == [] and rerun.skipped == len(messages) - lost and rerun.added == lost
    ingest_messages(
        make_memory(llm=FlakyEndpoint(healthy=True).llm(), single_pass=True),
        messages,
        user_id=clean,
        batch_size=2,
        context_size=0,
    )
    assert _canonical(memory, user) == _canonical(memory, clean)
    assert len(memory.get_all(user_id=user)) == len(THINGS)


def test_scripted_llm_faults_in_each_stage_leave_the_graph_whole(make_memory, new_user, store: Store):
    """ScriptedLLM(fail=...) in each task: the batch is reported, the others are committed."""
    user, clean = new_user("scripted-faults"), new_user("scripted-clean")
    llm = ScriptedLLM(
        fail={
            "entities": {2: LLMError("entities down")},
            "relations": {3: LLMError("relations down")},
            "resolve": {1: LLMError("resolver down")},
        }
    )
    turns = [
        Message(role="user", name="Sam", content=text, id=f"s-{i}", timestamp=f"2025-03-0{i + 1}T00:00:00Z")
        for i, text in enumerate(
            [
                "I live in Paris.",
                "I work at Acme.",
                "I like tea.",
                "My sister is Ann.",
                "I moved to London.",
                "I like chess.",
            ]
        )
    ]
    stats = ingest_messages(make_memory(llm=llm), turns, user_id=user, batch_size=1, context_size=0)
    failed = {int(re.match(r"messages (\d+)-", f).group(1)) - 1 for f in stats.failures}
    text = "\n".join(stats.failures)
    assert "entities down" in text and "relations down" in text and "resolver down" in text, text
    assert len(failed) == 3 and stats.messages == len(turns) - 3
    stored = store.run_text("MATCH (m:Message) WHERE m.user_id = $u RETURN m.external_id AS id", {"u": user})
    assert {r["id"] for r in stored} == {f"s-{i}" for i in range(len(turns)) if i not in failed}

    rerun = ingest_messages(make_memory(llm=ScriptedLLM()), turns, user_id=user, batch_size=1, context_size=0)
    assert rerun.failures == [] and rerun.skipped == len(turns) - 3 and rerun.messages == 3
    ingest_messages(make_memory(llm=ScriptedLLM()), turns, user_id=clean, batch_size=1, context_size=0)
    memory = make_memory()
    assert _canonical(memory, user) == _canonical(memory, clean)
    assert (
        store.run("scope_stats", Scope(user_id=user).params())[0]
        == store.run("scope_stats", Scope(user_id=clean).params())[0]
    )


def test_cli_ingest_with_failing_llm_exits_5_and_names_the_batches(
    neo4j_settings, monkeypatch, tmp_path, new_user, free_tcp_port
):
    """An endpoint that refuses connections: every batch fails, exit code 5, nothing written."""
    user = new_user("cli-llm")
    transcript = tmp_path / "t.jsonl"
    transcript.write_text(
        "".join(json.dumps({"role": "user", "name": "Robin", "content": f"I like {t}."}) + "\n" for t in THINGS[:4])
    )
    for key, value in {
        "NEO4J_URI": neo4j_settings.bolt_uri,
        "NEO4J_USER": neo4j_settings.neo4j_user,
        "NEO4J_PASSWORD": neo4j_settings.password(),
        "GRAPHMEM_LLM_PROVIDER": "openai",
        "OPENAI_BASE_URL": f"http://127.0.0.1:{free_tcp_port()}/v1",
        "OPENAI_API_KEY": "sk-cli-secret-key-123",
        "GRAPHMEM_LLM_MAX_RETRIES": "0",
        "GRAPHMEM_LLM_TIMEOUT": "5",
    }.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(app, ["ingest", str(transcript), "--user", user], catch_exceptions=False)
    assert result.exit_code == 5, result.output
    assert "messages 1-2" in result.output and "messages 3-4" in result.output
    assert "could not be reached" in result.output and "sk-cli-secret-key-123" not in result.output
    assert "Traceback" not in result.output


# -- (c) a transient Bolt error inside the write transaction ---------------------------------


def test_transient_error_inside_the_transaction_is_retried_and_writes_once(memory: GraphMemory, new_user, store):
    user = new_user("transient")
    calls = []

    def hiccup() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise Neo4jError._hydrate_neo4j(code="Neo.TransientError.Transaction.DeadlockDetected", message="injected")

    result = memory.add(
        {"role": "user", "name": "Sam", "content": "I live in Paris", "id": "t-1"}, user_id=user, _before_commit=hiccup
    )
    assert len(calls) == 2  # the first attempt rolled back, the second committed
    assert [(f.source, f.relation, f.target) for f in result.added] == [("Sam", "lives_in", "Paris")]
    [fact] = memory.get_all(user_id=user, include_invalidated=True)
    assert fact.id == result.added[0].id and fact.mentions == 1
    counts = store.run("scope_stats", Scope(user_id=user).params())[0]
    assert counts == {"entities": 2, "valid_facts": 1, "invalidated_facts": 0, "messages": 1}
    entity = store.run_text("MATCH (n:Entity {name: 'Sam'}) WHERE n.user_id = $u RETURN n.mentions AS m", {"u": user})
    assert entity == [{"m": 1}]  # the rolled-back attempt left no count behind


def test_non_transient_error_inside_the_transaction_commits_nothing(memory: GraphMemory, new_user, store):
    user = new_user("rollback")

    def boom() -> None:
        raise RuntimeError("injected failure before commit")

    with pytest.raises(RuntimeError, match="injected"):
        memory.add("I live in Paris", user_id=user, _before_commit=boom)
    assert store.run("scope_stats", Scope(user_id=user).params())[0] == {
        "entities": 0,
        "valid_facts": 0,
        "invalidated_facts": 0,
        "messages": 0,
    }


def test_persistent_transient_error_ends_as_a_clear_error(neo4j_settings, embedder, new_user, store):
    """A store whose retries give up after 1 s: a TransientError every time is not a hang."""
    from neo4j import GraphDatabase

    driver = GraphDatabase.driver(
        neo4j_settings.bolt_uri,
        auth=(neo4j_settings.neo4j_user, neo4j_settings.password()),
        max_transaction_retry_time=1.0,
        notifications_min_severity="OFF",
    )
    quick = Store(driver, uri=neo4j_settings.bolt_uri, user=neo4j_settings.neo4j_user)
    memory = GraphMemory(quick, llm=ScriptedLLM(), embedder=embedder, settings=neo4j_settings)
    user = new_user("always-transient")

    def always() -> None:
        raise Neo4jError._hydrate_neo4j(code="Neo.TransientError.General.DatabaseUnavailable", message="injected")

    started = time.monotonic()
    try:
        with pytest.raises(TransientError):
            memory.add("I live in Paris", user_id=user, _before_commit=always)
    finally:
        quick.close()
    assert time.monotonic() - started < 30
    assert store.run("scope_stats", Scope(user_id=user).params())[0]["messages"] == 0
