"""`graphmem serve` as clients meet it: a live uvicorn process on a free loopback port, spoken to
with httpx, against the real Neo4j. Neo4j is stopped, and the service killed mid-add, only on a
server of the test module's own."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
import uuid
from urllib.parse import quote

import httpx
import pytest

from graphmem import _managed_neo4j
from graphmem.store.transport import Store

pytestmark = pytest.mark.neo4j
TOKEN = "rest-test-token-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def api(spawn, shared_env, free_tcp_port, wait_for_http) -> httpx.Client:
    port = free_tcp_port()
    proc = spawn(["serve", "--port", str(port)], {**shared_env, "GRAPHMEM_API_TOKEN": TOKEN})
    base = f"http://127.0.0.1:{port}"
    wait_for_http(base + "/healthz", proc)
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120) as client:
        yield client


@pytest.fixture
def user(new_user) -> str:
    return new_user("rest")


def _error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"type", "message"}, body
    return body["error"]["message"]


def test_every_endpoint_round_trip(api: httpx.Client, user: str):
    added = api.post(
        "/v1/memories",
        json={
            "messages": [{"role": "user", "name": "Dana", "content": "I moved to Lisbon and I work at Siemens."}],
            "user_id": user,
            "timestamp": "2025-03-01T10:00:00Z",
            "metadata": {"source": "rest-test"},
        },
    )
    assert added.status_code == 200, added.text
    facts = {f["relation"]: f for f in added.json()["added"]}
    assert {"lives_in", "works_at"} <= set(facts) and facts["works_at"]["target"] == "Siemens"

    triplet = {"source": "Dana", "source_type": "Person", "relation": "sister_of", "target": "Mira"}
    more = api.post("/v1/facts", json={"triplets": [triplet], "user_id": user})
    assert more.status_code == 200 and more.json()["added"][0]["relation"] == "sister_of"

    found = api.post("/v1/search", json={"query": "Where does Dana work?", "user_id": user, "limit": 5})
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["facts"][0]["fact"]["target"] == "Siemens"
    assert body["episodes"] and "Siemens" in body["episodes"][0]["episode"]["content"]
    assert "Siemens" in body["context"] and "Relevant conversation turns" in body["context"]

    listed = api.get("/v1/facts", params={"user_id": user}).json()["facts"]
    assert len(listed) == 3
    one = api.get(f"/v1/facts/{facts['works_at']['id']}", params={"user_id": user})
    assert one.status_code == 200 and one.json()["fact"] == facts["works_at"]["fact"]
    history = api.get("/v1/history", params={"user_id": user, "name_or_id": "Dana"}).json()["facts"]
    assert {f["relation"] for f in history} == {"lives_in", "works_at", "sister_of"}

    gone = api.delete(f"/v1/facts/{facts['works_at']['id']}", params={"user_id": user})
    assert gone.status_code == 200 and gone.json() == {"deleted": 1}
    _error(api.get(f"/v1/facts/{facts['works_at']['id']}", params={"user_id": user}), 404)
    assert "confirm" in _error(api.delete("/v1/scopes", params={"user_id": user}), 400)
    wiped = api.delete("/v1/scopes", params={"user_id": user, "confirm": "true"})
    assert wiped.status_code == 200 and wiped.json()["deleted"] > 0
    assert api.get("/v1/facts", params={"user_id": user}).json() == {"facts": []}

    assert api.get("/healthz").json()["neo4j"]["reachable"] is True
    assert "/v1/search" in api.get("/openapi.json").json()["paths"]
    assert api.get("/docs").status_code == 200


def test_without_the_token_only_healthz_answers(api: httpx.Client, user: str):
    base = str(api.base_url)
    calls = [
        ("POST", "/v1/memories", {"json": {"messages": "hi", "user_id": user}}),
        ("POST", "/v1/facts", {"json": {"triplets": [], "user_id": user}}),
        ("POST", "/v1/search", {"json": {"query": "x", "user_id": user}}),
        ("GET", "/v1/facts", {"params": {"user_id": user}}),
        ("GET", "/v1/facts/abc", {"params": {"user_id": user}}),
        ("GET", "/v1/history", {"params": {"user_id": user, "name_or_id": "x"}}),
        ("DELETE", "/v1/facts/abc", {"params": {"user_id": user}}),
        ("DELETE", "/v1/scopes", {"params": {"user_id": user, "confirm": "true"}}),
        ("GET", "/metrics", {}),
    ]
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        with httpx.Client(base_url=base, headers=headers, timeout=30) as anonymous:
            for method, path, kwargs in calls:
                response = anonymous.request(method, path, **kwargs)
                assert "bearer token" in _error(response, 401), (method, path)
                assert response.headers["www-authenticate"].startswith("Bearer")
            assert anonymous.get("/healthz").status_code == 200
    assert api.get("/v1/facts", params={"user_id": user}).json() == {"facts": []}  # nothing was written


def test_another_scopes_fact_is_not_found_and_not_touched(api: httpx.Client, new_user):
    owner, other = new_user("rest-owner"), new_user("rest-other")
    fact = api.post(
        "/v1/facts", json={"triplets": [{"source": "Ana", "relation": "lives_in", "target": "Porto"}], "user_id": owner}
    ).json()["added"][0]
    unknown = _error(api.get("/v1/facts/no-such-id", params={"user_id": other}), 404)
    hidden = _error(api.get(f"/v1/facts/{fact['id']}", params={"user_id": other}), 404)
    assert hidden == unknown.replace("no-such-id", fact["id"])  # the same answer as for a missing id
    _error(api.delete(f"/v1/facts/{fact['id']}", params={"user_id": other}), 404)
    assert api.get("/v1/history", params={"user_id": other, "name_or_id": fact["id"]}).json() == {"facts": []}
    assert api.get(f"/v1/facts/{fact['id']}", params={"user_id": owner}).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "named"),
    [
        ("POST", "/v1/search", {"json": {"user_id": "u"}}, "query"),
        ("POST", "/v1/search", {"json": {"query": "x", "user_id": "u", "limit": 0}}, "limit"),
        ("POST", "/v1/search", {"json": {"query": "x", "user_id": "u", "mode": "psychic"}}, "mode"),
        ("POST", "/v1/search", {"json": {"query": "x"}}, "user_id"),
        ("POST", "/v1/memories", {"json": {"messages": [{"role": "user", "content": " "}], "user_id": "u"}}, "content"),
        ("POST", "/v1/memories", {"json": {"messages": [{"role": "robot", "content": "hi"}], "user_id": "u"}}, "role"),
        ("POST", "/v1/memories", {"content": b"{not json", "headers": {"content-type": "application/json"}}, "JSON"),
        ("POST", "/v1/facts", {"json": {"triplets": [{"source": "a", "target": "b"}], "user_id": "u"}}, "relation"),
        ("POST", "/v1/facts", {"json": {"triplets": [], "user_id": "u"}}, "triplets"),
        ("GET", "/v1/facts", {"params": {"user_id": "u", "limit": "many"}}, "limit"),
        ("GET", "/v1/history", {"params": {"user_id": "u"}}, "name_or_id"),
        ("GET", "/v1/facts", {}, "user_id"),
    ],
)
def test_bad_input_is_400_naming_the_field(api: httpx.Client, method, path, kwargs, named):
    message = _error(api.request(method, path, **kwargs), 400)
    assert named.lower() in message.lower(), message


def test_a_body_over_the_limit_is_413(api: httpx.Client, user: str):
    huge = "x" * (1 << 20)
    message = _error(api.post("/v1/memories", json={"messages": huge, "user_id": user}), 413)
    assert "1,048,576" in message

    def chunks():  # no content-length: the limit holds while the body streams in
        for _ in range(20):
            yield b"x" * 65536

    _error(api.post("/v1/memories", content=chunks(), headers={"content-type": "application/json"}), 413)
    assert api.get("/v1/facts", params={"user_id": user}).json() == {"facts": []}


INJECTIONS = [
    "x'}) MATCH (n) DETACH DELETE n //",
    'x"}) RETURN 1 UNION MATCH (n) DETACH DELETE n //',
    "`) DETACH DELETE n //",
    "$user_id",
    "{user_id: 'someone-else'}",
    "<script>alert(1)</script>",
]


def test_injection_strings_are_stored_as_data(api: httpx.Client, new_user, store: Store):
    canary = new_user("rest-canary")
    api.post("/v1/memories", json={"messages": "I live in Oslo.", "user_id": canary})
    before = store.run_text("MATCH (n) RETURN count(n) AS n")[0]["n"]
    for text in INJECTIONS:
        user = new_user("rest-inj") + text
        stored = api.post(
            "/v1/memories",
            json={
                "messages": [{"role": "user", "name": text, "content": f"I work at {text}.", "id": text}],
                "user_id": user,
                "metadata": {"note": text},
            },
        )
        assert stored.status_code == 200, stored.text
        facts = api.post(
            "/v1/facts",
            json={
                "triplets": [{"source": text, "relation": text, "target": f"Target {text}", "fact": text}],
                "user_id": user,
            },
        )
        assert facts.status_code == 200, facts.text
        found = api.post("/v1/search", json={"query": text, "user_id": user})
        assert found.status_code == 200, found.text
        assert any(e["episode"]["content"] == f"I work at {text}." for e in found.json()["episodes"])
        listed = api.get("/v1/facts", params={"user_id": user}).json()["facts"]
        assert {f["user_id"] for f in listed} == {user}
        assert any(f["source"] == text and f["target"] == f"Target {text}" and f["fact"] == text for f in listed), (
            listed
        )
        assert api.get(f"/v1/facts/{quote(text, safe='')}", params={"user_id": user}).status_code == 404
        store.run("delete_scope", {"user_id": user, "agent_id": None, "run_id": None}, write=True)
    after = store.run_text("MATCH (n) RETURN count(n) AS n")[0]["n"]
    assert after >= before  # nothing outside the test's own scopes went away
    assert api.post("/v1/search", json={"query": "Oslo", "user_id": canary}).json()["facts"]


def test_metrics_count_requests_adds_and_llm_calls(api: httpx.Client, user: str):
    api.post("/v1/memories", json={"messages": "I play the cello.", "user_id": user})
    text = api.get("/metrics").text
    assert 'graphmem_http_requests_total{method="POST",route="/v1/memories",status="200"}' in text
    assert 'graphmem_adds_total{kind="memories"}' in text
    assert "graphmem_llm_calls_total" in text and "graphmem_http_request_duration_seconds_bucket" in text


# -- on a Neo4j of the module's own ----------------------------------------------------------


@pytest.fixture
def serve_own(spawn, own_env, free_tcp_port, wait_for_http):
    """`graphmem serve` on the module's own Neo4j: (base URL, process)."""

    def start() -> tuple[str, subprocess.Popen]:
        port = free_tcp_port()
        proc = spawn(["serve", "--port", str(port)], {**own_env, "GRAPHMEM_API_TOKEN": TOKEN})
        base = f"http://127.0.0.1:{port}"
        wait_for_http(base + "/healthz", proc)
        return base, proc

    return start


def test_neo4j_stopped_is_503_and_health_says_so(serve_own, own_server, own_env):
    base, proc = serve_own()
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=base, headers=headers, timeout=120) as api:
        assert api.post("/v1/memories", json={"messages": "I live in Graz.", "user_id": "own-u"}).status_code == 200
        _managed_neo4j.stop(own_server)
        try:
            message = _error(api.post("/v1/search", json={"query": "Graz", "user_id": "own-u"}), 503)
            assert "Neo4j" in message and own_env["NEO4J_URI"] in message
            _error(api.post("/v1/memories", json={"messages": "I moved to Linz.", "user_id": "own-u"}), 503)
            health = api.get("/healthz")
            assert health.status_code == 503 and health.json()["neo4j"]["reachable"] is False
        finally:
            _managed_neo4j.start(own_server, wait_seconds=240)
        deadline = time.monotonic() + 60
        while api.get("/healthz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(1)
        found = api.post("/v1/search", json={"query": "Graz Linz", "user_id": "own-u"}).json()["facts"]
        assert [f["fact"]["target"] for f in found] == ["Graz"]  # the failed add left nothing
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 0


def test_sigterm_answers_the_adds_in_flight_and_loses_none(serve_own, own_server, own_env):
    base, proc = serve_own()
    user = f"own-term-{uuid.uuid4().hex[:6]}"
    answered: list[str] = []
    refused: list[str] = []

    def add(i: int) -> None:
        turn = {"role": "user", "content": f"I visited city number {i}.", "id": f"turn-{i}"}
        try:
            response = httpx.post(
                base + "/v1/memories",
                json={"messages": [turn], "user_id": user},
                headers={"Authorization": f"Bearer {TOKEN}"},
                timeout=120,
            )
        except httpx.TransportError:
            refused.append(turn["id"])
            return
        (answered if response.status_code == 200 else refused).append(turn["id"])

    threads = [threading.Thread(target=add, args=(i,)) for i in range(32)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 120
    while len(answered) < 2 and time.monotonic() < deadline:  # signal while the rest are in flight
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    for thread in threads:
        thread.join(timeout=180)
    assert proc.wait(timeout=60) == 0
    settings = own_server.model_copy(
        update={"neo4j_uri": own_env["NEO4J_URI"], "neo4j_password": own_env["NEO4J_PASSWORD"]}
    )
    store = Store.connect(settings)
    try:
        rows = store.run_text("MATCH (m:Message {user_id: $u}) RETURN m.external_id AS id", {"u": user})
    finally:
        store.close()
    assert answered, (
        f"no add was answered before the signal; refused {len(refused)}, stored {len(rows)}, {proc.stderr.read()[-2000:]}"
    )
    assert sorted(r["id"] for r in rows) == sorted(answered)  # committed exactly when answered
