"""`graphmem serve` while its model is slow, as clients meet it: a live uvicorn process, an
OpenAI-compatible endpoint on loopback that holds every call until the test lets it answer,
httpx clients, the real Neo4j.

While every add waits on the model, a search still answers (the endpoint answers only after
it has, so a search that queued behind the adds would never return); adds past the per-scope
bound get 429 with Retry-After and store nothing, the others' adds are accepted; once the model
answers, every accepted add is stored and /metrics shows the lanes. No timing asserts."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from graphmem.store.transport import Store

pytestmark = pytest.mark.neo4j
TOKEN = "lanes-test-token-" + uuid.uuid4().hex
ANSWER = json.dumps({"entities": [], "triplets": [], "decisions": []})
HOLD = 60  # seconds the endpoint holds a call at most (the test releases it much sooner)


class HeldModel(ThreadingHTTPServer):
    """Answers every chat completion once `answer` is set; counts the calls held."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answer = threading.Event()
        self.lock = threading.Lock()
        self.held = 0


class _Handler(BaseHTTPRequestHandler):
    server: HeldModel

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        with self.server.lock:
            self.server.held += 1
        self.server.answer.wait(HOLD)
        message = {"role": "assistant", "content": ANSWER}
        body = {
            "id": "held",
            "object": "chat.completion",
            "created": 0,
            "model": "held",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        }
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def model() -> Iterator[HeldModel]:
    server = HeldModel()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.answer.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def api(spawn, shared_env, free_tcp_port, wait_for_http, model: HeldModel) -> str:
    port = free_tcp_port()
    env = {
        **shared_env,
        "GRAPHMEM_API_TOKEN": TOKEN,
        "GRAPHMEM_LLM_PROVIDER": "openai",
        "OPENAI_BASE_URL": f"http://127.0.0.1:{model.server_address[1]}/v1",
        "OPENAI_API_KEY": "held-model-key",
        "GRAPHMEM_MAX_PENDING_PER_SCOPE": "2",
        "GRAPHMEM_MAX_PENDING_ADDS": "8",
        "GRAPHMEM_MAX_CONCURRENCY": "2",  # fewer than the adds waiting: one shared pool would block the search
        "GRAPHMEM_PREPARE_CONCURRENCY": "3",
    }
    proc = spawn(["serve", "--port", str(port)], env)
    base = f"http://127.0.0.1:{port}"
    wait_for_http(base + "/healthz", proc)
    return base


def test_searches_answer_while_adds_wait_on_the_model(api: str, model: HeldModel, new_user, store: Store):
    busy, calm = new_user("lanes-busy"), new_user("lanes-calm")

    async def main() -> None:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with httpx.AsyncClient(base_url=api, headers=headers, timeout=HOLD + 30) as client:

            def add(user: str, i: int):
                turn = {"role": "user", "content": f"Turn {i} of {user}.", "id": f"t{i}"}
                return client.post("/v1/memories", json={"messages": [turn], "user_id": user})

            accepted = [asyncio.create_task(add(busy, i)) for i in range(2)]
            accepted.append(asyncio.create_task(add(calm, 0)))
            for _ in range(600):  # until the three adds wait on the model (30 s at most)
                if model.held >= 3:
                    break
                await asyncio.sleep(0.05)
            assert model.held == 3, f"{model.held} adds reached the model"
            refused = await add(busy, 2)  # a third of one scope: over its bound
            assert refused.status_code == 429, refused.text
            assert int(refused.headers["retry-after"]) >= 1
            assert refused.json()["error"]["type"] == "busy"
            assert "GRAPHMEM_MAX_PENDING_PER_SCOPE=2" in refused.json()["error"]["message"]

            # the model answers nothing until this search has answered
            found = await client.post("/v1/search", json={"query": "turn", "user_id": calm})
            assert found.status_code == 200, found.text
            metrics = (await client.get("/metrics")).text
            assert 'graphmem_lane_running{lane="prepare"} 3.0' in metrics
            assert "graphmem_adds_pending 3.0" in metrics and "graphmem_adds_refused_total 1.0" in metrics

            model.answer.set()
            for response in await asyncio.gather(*accepted):
                assert response.status_code == 200, response.text
            after = (await client.get("/metrics")).text
            assert "graphmem_adds_pending 0.0" in after
            assert 'graphmem_lane_wait_seconds_count{lane="commit"} 3.0' in after

    asyncio.run(main())
    stored = store.run_text(
        "MATCH (m:Message) WHERE m.user_id IN $users RETURN m.user_id AS user, m.content AS content ORDER BY content",
        {"users": [busy, calm]},
    )
    # every accepted turn stored once; the refused one not at all
    assert sorted((r["user"], r["content"]) for r in stored) == sorted(
        [(busy, f"Turn 0 of {busy}."), (busy, f"Turn 1 of {busy}."), (calm, f"Turn 0 of {calm}.")]
    )
