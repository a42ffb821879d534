"""The pure decisions of `graphmem mcp` and `graphmem serve`: which scope a call gets, the
bearer token, which addresses may be bound."""

from __future__ import annotations

import asyncio
import json
import stat

import pytest

from graphmem import InputError, Scope, load_settings
from graphmem._errors import ConfigError
from graphmem.serve.auth import BearerAuth, api_token, authorized, check_bind, is_loopback
from graphmem.serve.scope_policy import ScopePolicy, ScopeRefused


def test_the_server_scope_is_used_when_a_call_gives_none():
    assert ScopePolicy(user_id="u").resolve() == Scope(user_id="u")
    assert ScopePolicy(user_id="u", agent_id="a").resolve(user_id="u") == Scope(user_id="u", agent_id="a")


def test_a_call_may_narrow_the_scope_by_an_id_the_server_left_open():
    assert ScopePolicy(user_id="u").resolve(run_id="r1") == Scope(user_id="u", run_id="r1")
    assert ScopePolicy(user_id="u").resolve(agent_id="a") == Scope(user_id="u", agent_id="a")
    assert ScopePolicy(agent_id="a").resolve(user_id="bob") == Scope(user_id="bob", agent_id="a")


@pytest.mark.parametrize(
    ("policy", "call", "named"),
    [
        (ScopePolicy(user_id="u"), {"user_id": "mallory"}, "--any-user"),
        (ScopePolicy(user_id="u", run_id="r1"), {"run_id": "r2"}, "run_id"),
        (ScopePolicy(user_id="u", agent_id="a"), {"agent_id": "b"}, "agent_id"),
        (ScopePolicy(agent_id="a", any_user=True), {"agent_id": "b"}, "agent_id"),
    ],
)
def test_a_call_never_widens_or_changes_the_scope(policy, call, named):
    with pytest.raises(ScopeRefused, match=named):
        policy.resolve(**call)


def test_any_user_lets_a_call_name_another_user_but_needs_one():
    policy = ScopePolicy(user_id="u", any_user=True)
    assert policy.resolve(user_id="bob") == Scope(user_id="bob")
    assert policy.resolve() == Scope(user_id="u")
    open_policy = ScopePolicy(any_user=True)
    assert open_policy.resolve(user_id="bob", run_id="r") == Scope(user_id="bob", run_id="r")
    with pytest.raises(InputError, match="user_id"):
        open_policy.resolve()


def test_a_server_without_scope_or_any_user_is_refused():
    with pytest.raises(InputError, match="--user"):
        ScopePolicy()


def test_bearer_header_is_checked_exactly():
    assert authorized("Bearer s3cret", "s3cret")
    assert authorized("bearer s3cret", "s3cret")
    for header in (None, "", "s3cret", "Bearer", "Bearer s3cre", "Bearer s3cret2", "Basic s3cret", "Bearer  x"):
        assert not authorized(header, "s3cret"), header


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("127.0.0.2", True),
        ("0.0.0.0", False),
        ("10.0.0.5", False),
        ("example.org", False),
    ],
)
def test_loopback_addresses(host, loopback):
    assert is_loopback(host) is loopback


def test_a_public_bind_needs_a_chosen_token(tmp_path):
    generated_only = load_settings(home=tmp_path, api_token=None)
    check_bind("127.0.0.1", generated_only)
    with pytest.raises(ConfigError, match="GRAPHMEM_API_TOKEN"):
        check_bind("0.0.0.0", generated_only)
    check_bind("0.0.0.0", load_settings(home=tmp_path, api_token="chosen"))


def test_the_generated_token_is_private_and_stable(tmp_path):
    settings = load_settings(home=tmp_path / "home", api_token=None)
    token, where = api_token(settings)
    assert len(token) >= 32 and where == str(settings.api_token_file)
    assert stat.S_IMODE(settings.api_token_file.stat().st_mode) == 0o600
    assert api_token(settings) == (token, where)
    assert api_token(load_settings(home=tmp_path / "home", api_token="mine")) == ("mine", "GRAPHMEM_API_TOKEN")


def test_bearer_middleware_answers_401_in_the_error_shape():
    asyncio.run(_bearer_middleware())


async def _bearer_middleware() -> None:
    reached: list[str] = []

    async def app(scope, receive, send):
        reached.append(scope["path"])

    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b""}

    guarded = BearerAuth(app, "tok", open_paths=frozenset({"/healthz"}))
    await guarded({"type": "http", "path": "/mcp", "headers": [(b"authorization", b"Bearer nope")]}, receive, send)
    assert sent[0]["status"] == 401 and json.loads(sent[1]["body"])["error"]["type"] == "unauthorized"
    await guarded({"type": "http", "path": "/mcp", "headers": [(b"authorization", b"Bearer tok")]}, receive, send)
    await guarded({"type": "http", "path": "/healthz", "headers": []}, receive, send)
    assert reached == ["/mcp", "/healthz"]


@pytest.mark.parametrize(
    ("args", "code", "named"),
    [
        (["serve", "--host", "0.0.0.0"], 4, "GRAPHMEM_API_TOKEN"),
        (["mcp", "--http", "--host", "10.1.2.3", "--user", "u"], 4, "GRAPHMEM_API_TOKEN"),
        (["mcp"], 2, "--user"),
    ],
)
def test_the_commands_refuse_before_they_connect(args, code, named, monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from graphmem.cli import app

    monkeypatch.delenv("GRAPHMEM_API_TOKEN", raising=False)
    monkeypatch.setenv("GRAPHMEM_HOME", str(tmp_path))
    monkeypatch.setenv("NEO4J_URI", "bolt://127.0.0.1:1")  # never reached
    result = CliRunner().invoke(app, args)
    assert result.exit_code == code, result.output
    assert named in result.output.replace("\n", " ")
