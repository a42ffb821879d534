"""Bad input gets a clear, specific error and the documented exit code, never a traceback.

Decided limits (see SECURITY.md): one message holds at most 200,000 characters
(MAX_MESSAGE_CHARS: more than a model reads in one extraction call; split longer text),
a scope id at most 1,000 (it is kept in range indexes), an entity name at most 20,000.
"""

from __future__ import annotations

import json
import re
import socket
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graphmem import GraphMemory, InputError, Scope
from graphmem._errors import ConfigError, GraphmemError, LLMError, Neo4jUnavailable, SchemaError, ServerError
from graphmem._models import MAX_MESSAGE_CHARS
from graphmem.cli import app
from graphmem.cli._common import EXIT_CODES
from graphmem.embed import HashingEmbedder

pytestmark = pytest.mark.neo4j
README = Path(__file__).resolve().parents[2] / "README.md"


def invoke(*args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)


def _one_line_error(result, code: int, *needles: str) -> None:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.output, (needle, result.output)


# -- the Python API ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("messages", "match"),
    [
        ("", "message 0: message content is empty"),
        ("  \n\t ", "message 0: message content is empty"),
        ([], "got no messages"),
        ({"role": "user", "content": ""}, "message 0: message content is empty"),
        ({"role": "user"}, "message 0: content: Field required"),
        (
            [{"role": "user", "content": "hi"}, {"role": "wizard", "content": "hi"}],
            "message 1: unknown message role 'wizard'",
        ),
        ({"role": "User", "content": "hi"}, "unknown message role 'User'"),
        ({"role": "user", "content": 5}, "message 0: content: Input should be a valid string"),
        ({"role": "user", "content": [{"type": "text", "text": "hi"}]}, "message 0: content"),
        ({"role": "user", "content": "hi", "timestamp": "yesterday"}, "message 0: timestamp"),
        (["ok", 7], "message 1: a int is not a message"),
        (7, "expected a str, a dict or a list"),
        (None, "expected a str, a dict or a list"),
        ("x" * (MAX_MESSAGE_CHARS + 1), f"at most {MAX_MESSAGE_CHARS:,}"),
        ("I live in Paris. " * 60_000, "split the text into several messages"),  # ~1 MB
    ],
)
def test_bad_messages_are_input_errors(memory: GraphMemory, new_user, store, messages, match):
    user = new_user("bad")
    with pytest.raises(InputError, match=re.escape(match)):
        memory.add(messages, user_id=user)
    assert store.run("scope_stats", Scope(user_id=user).params())[0]["messages"] == 0


def test_a_long_message_under_the_limit_is_fine(memory: GraphMemory, new_user):
    """~190 kB of text: the offline extractor reads it in reasonable time and keeps the facts."""
    user = new_user("long")
    text = "I live in Paris. My sister Ann works at Acme. " * 4_000
    assert len(text) <= MAX_MESSAGE_CHARS
    started = time.monotonic()
    result = memory.add({"role": "user", "name": "Sam", "content": text}, user_id=user)
    assert time.monotonic() - started < 120
    facts = {(f.source, f.relation, f.target) for f in result.added}
    assert ("Sam", "lives_in", "Paris") in facts and len(result.added) < 10


@pytest.mark.parametrize(
    ("triplets", "match"),
    [
        ([{"source": "A"}], "triplet 0: relation: Field required"),
        (
            [{"source": "A", "relation": "r", "target": "B"}, {"source": "", "relation": "r", "target": "B"}],
            "triplet 1: source",
        ),
        ([{"source": "A", "relation": "r", "target": "B", "confidence": 2}], "triplet 0: confidence"),
        ([{"source": "A", "relation": "r", "target": ["B"]}], "triplet 0: target"),
    ],
)
def test_bad_triplets_are_input_errors(memory: GraphMemory, new_user, triplets, match):
    with pytest.raises(InputError, match=re.escape(match)):
        memory.add_triplets(triplets, user_id=new_user("bad-triplet"))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"query": "", "user_id": "u"}, "search query is empty"),
        ({"query": "x", "user_id": "u", "mode": "fuzzy"}, "unknown search mode 'fuzzy'"),
        ({"query": "x", "user_id": "u", "limit": 0}, "limit"),
        ({"query": "x"}, "a scope needs at least one of user_id"),
    ],
)
def test_bad_searches_are_input_errors(memory: GraphMemory, kwargs, match):
    with pytest.raises(InputError, match=re.escape(match)):
        memory.search(**kwargs)


def test_wrong_embedding_dimension_is_a_schema_error_naming_the_index(store, neo4j_settings):
    with pytest.raises(SchemaError, match=r"vector index (entity|fact)_embedding holds 384-dimensional .* makes 128"):
        GraphMemory(store, llm=None, embedder=HashingEmbedder(128), settings=neo4j_settings)  # type: ignore[arg-type]


def test_other_model_at_the_same_dimension_is_a_schema_error(memory: GraphMemory, store, neo4j_settings, new_user):
    memory.add_triplets([{"source": "A", "relation": "r", "target": "B"}], user_id=new_user("model"))  # data exists
    with pytest.raises(SchemaError, match="embedded with all-MiniLM-L6-v2 but the configured embedder is hashing-384"):
        GraphMemory(store, llm=None, embedder=HashingEmbedder(384), settings=neo4j_settings)  # type: ignore[arg-type]


# -- transcripts through the CLI --------------------------------------------------------------


def _line(role: str = "user", content: str = "I live in Paris.", **extra) -> str:
    return json.dumps({"role": role, "name": "Sam", "content": content, **extra}, ensure_ascii=False) + "\n"


@pytest.mark.parametrize(
    ("name", "data", "needles"),
    [
        (
            "latin1.jsonl",
            _line(content="Café in Zürich").encode("utf-8").replace("é".encode(), b"\xe9"),
            ["latin1.jsonl: not UTF-8 text (byte", "iconv"],
        ),
        ("latin1.txt", "Sam: I live in Zürich\n".encode("latin-1"), ["latin1.txt: not UTF-8 text"]),
        (
            "utf16.json",
            json.dumps([{"role": "user", "content": "hi"}]).encode("utf-16"),
            ["utf16.json: not UTF-8 text"],
        ),
        (
            "truncated.json",
            json.dumps([{"role": "user", "content": "I live in Paris"}] * 3)[:-9].encode(),
            ["truncated.json:1: invalid JSON"],
        ),
        ("truncated.jsonl", (_line() + _line()[:-12]).encode(), ["truncated.jsonl:2: invalid JSON"]),
        ("role.jsonl", (_line() + _line(role="narrator")).encode(), ["role.jsonl:2: unknown message role 'narrator'"]),
        ("empty.jsonl", b"\n\n", ["empty.jsonl: holds no messages"]),
        ("blank.jsonl", _line(content="   ").encode(), ["blank.jsonl:1: message content is empty"]),
        ("huge.jsonl", (_line() + _line(content="word " * 210_000)).encode(), ["huge.jsonl:2:", "at most 200,000"]),
        (
            "surrogate.jsonl",
            b'{"role": "user", "content": "bad \\ud800 half"}\n',
            ["surrogate.jsonl:1:", "lone surrogate"],
        ),
        (
            "when.jsonl",
            _line(timestamp="last tuesday").encode(),
            ["when.jsonl:1: timestamp 'last tuesday' is not ISO 8601"],
        ),
        ("list.json", b'{"messages": "nope"}', ["list.json: expected a JSON list of messages"]),
        ("scalar.jsonl", b'"just a string"\n', ["scalar.jsonl:1: expected an object"]),
        ("prose.txt", b"no speaker here\n", ["prose.txt:1: expected 'Speaker: text'"]),
    ],
)
def test_bad_transcripts_exit_2_naming_file_and_line(cli_env, tmp_path, new_user, store, name, data, needles):
    path = tmp_path / name
    path.write_bytes(data)
    user = new_user("transcript")
    result = invoke("ingest", str(path), "--user", user)
    _one_line_error(result, 2, *(n.replace(name, str(path)) if n.startswith(name) else n for n in needles))
    assert store.run("scope_stats", Scope(user_id=user).params())[0]["messages"] == 0  # parsed before writing


def test_missing_file_and_bad_options_exit_2(cli_env, tmp_path):
    _one_line_error(invoke("ingest", str(tmp_path / "nope.jsonl"), "--user", "u"), 2, "nope.jsonl: no such file")
    _one_line_error(
        invoke("ingest", str(tmp_path / "nope.jsonl"), "--user", "u", "--format", "yaml"), 2, "unknown format 'yaml'"
    )
    assert invoke("ingest", "x.jsonl", "--batch", "0", "--user", "u").exit_code == 2  # typer's own usage errors
    assert invoke("search", "x", "--user", "u", "--limit", "0").exit_code == 2
    assert invoke("no-such-command").exit_code == 2
    _one_line_error(invoke("search", "   ", "--user", "u"), 2, "search query is empty")
    _one_line_error(invoke("search", "x", "--user", "u", "--mode", "fuzzy"), 2, "unknown search mode")
    _one_line_error(invoke("facts"), 2, "give a scope: --user")
    transcript = tmp_path / "ok.jsonl"
    transcript.write_text(_line())
    _one_line_error(invoke("ingest", str(transcript)), 2, "give a scope: --user")


def test_wrong_embedding_dimension_exits_6_naming_the_index(cli_env, monkeypatch):
    monkeypatch.setenv("GRAPHMEM_EMBEDDER", "hashing")
    monkeypatch.setenv("GRAPHMEM_EMBEDDING_DIM", "128")
    for args in (["facts", "--user", "u"], ["init"], ["search", "Paris", "--user", "u"]):
        result = invoke(*args)
        _one_line_error(
            result, 6, "vector index", "_embedding holds 384-dimensional vectors", "makes 128", "GRAPHMEM_EMBEDDING_DIM"
        )


# -- exit codes: README, code and behaviour agree -----------------------------------------------


def test_readme_exit_codes_match_the_code():
    text = README.read_text()
    line = " ".join(text[text.index("Exit codes:") :].split("\n\n", 1)[0].split())  # the paragraph, unwrapped
    documented = {int(code): words for code, words in re.findall(r"(\d) ([^,.]+)", line)}
    assert documented.keys() == set(range(8)), line
    assert "ok" in documented[0] and "other" in documented[1]
    expected = {
        InputError: ("bad input", 2),
        Neo4jUnavailable: ("Neo4j unreachable", 3),
        ConfigError: ("configuration", 4),
        LLMError: ("LLM", 5),
        SchemaError: ("schema", 6),
        ServerError: ("managed server", 7),
    }
    for kind, (words, code) in expected.items():
        assert EXIT_CODES[kind] == code and words in documented[code], (kind, documented)
    assert set(EXIT_CODES) == set(expected) and all(issubclass(k, GraphmemError) for k in EXIT_CODES)


def _listening_port() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    return sock


def test_every_exit_code_happens_as_documented(cli_env, monkeypatch, tmp_path, new_user):
    user = new_user("codes")
    transcript = tmp_path / "t.jsonl"
    transcript.write_text(_line() + _line(content="I work at Acme."))
    # 0 ok
    assert invoke("stats", "--user", user).exit_code == 0
    # 1 other: declining the confirmation of a delete
    assert invoke("delete", "--user", user, input="n\n").exit_code == 1
    # 2 bad input
    _one_line_error(invoke("ingest", str(tmp_path / "missing.jsonl"), "--user", user), 2, "no such file")
    # 5 LLM failure: an endpoint that refuses connections, no retries
    with monkeypatch.context() as m:
        m.setenv("GRAPHMEM_LLM_PROVIDER", "openai")
        m.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{_free_port()}/v1")
        m.setenv("GRAPHMEM_LLM_MAX_RETRIES", "0")
        _one_line_error(invoke("ingest", str(transcript), "--user", user), 5, "messages 1-2", "could not be reached")
    # 6 schema mismatch
    with monkeypatch.context() as m:
        m.setenv("GRAPHMEM_EMBEDDER", "hashing")
        m.setenv("GRAPHMEM_EMBEDDING_DIM", "128")
        _one_line_error(invoke("facts", "--user", user), 6, "vector index")
    # 4 bad configuration, naming the setting
    with monkeypatch.context() as m:
        m.setenv("GRAPHMEM_EMBEDDING_DIM", "3")
        _one_line_error(invoke("stats"), 4, "GRAPHMEM_EMBEDDING_DIM")
    # 3 unreachable / credentials rejected
    with monkeypatch.context() as m:
        m.setenv("NEO4J_URI", f"bolt://127.0.0.1:{_free_port()}")
        _one_line_error(invoke("stats"), 3, "cannot reach Neo4j at bolt://127.0.0.1:")
    with monkeypatch.context() as m:
        m.setenv("NEO4J_PASSWORD", "wrong-password")
        _one_line_error(invoke("stats"), 3, "rejected the credentials")
    # 7 managed server failure: its Bolt port is taken
    with monkeypatch.context() as m, _listening_port() as taken:
        m.delenv("NEO4J_URI")
        m.delenv("NEO4J_PASSWORD")
        m.setenv("GRAPHMEM_HOME", str(tmp_path / "home"))
        m.setenv("GRAPHMEM_BOLT_PORT", str(taken.getsockname()[1]))
        m.setenv("GRAPHMEM_HTTP_PORT", str(_free_port()))
        _one_line_error(invoke("neo4j", "start"), 7, f"port {taken.getsockname()[1]} (Bolt)", "already in use")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
