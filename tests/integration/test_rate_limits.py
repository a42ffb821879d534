"""A rate-limited endpoint slows a pipelined ingest down instead of failing it.

The endpoint is an OpenAI-compatible HTTP server on loopback that serves at most CAPACITY
requests at once and answers any more with 429 and a Retry-After. A pipelined ingest at
concurrency 16 sends far more; each refused call waits and retries, and the refusals
narrow the flow of every caller (graphmem/llm/_flow.py), so no window runs out of retries.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from graphmem import AddResult, AddWindow
from graphmem.llm import OpenAILLM
from graphmem.store.transport import Store

pytestmark = pytest.mark.neo4j

CAPACITY = 2
ANSWER = json.dumps({"entities": [], "triplets": [], "decisions": []})


class Endpoint(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.in_flight = self.served = self.refused = self.peak = 0


class _Handler(BaseHTTPRequestHandler):
    server: Endpoint

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        endpoint = self.server
        with endpoint.lock:
            endpoint.in_flight += 1
            endpoint.peak = max(endpoint.peak, endpoint.in_flight)
            over = endpoint.in_flight > CAPACITY
        try:
            if over:
                with endpoint.lock:
                    endpoint.refused += 1
                error = {"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}
                self._send(429, error, {"retry-after-ms": "100"})
                return
            time.sleep(0.05)  # the model at work
            with endpoint.lock:
                endpoint.served += 1
            self._send(
                200,
                {
                    "id": "stub",
                    "object": "chat.completion",
                    "created": 0,
                    "model": "stub",
                    "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": ANSWER}, "finish_reason": "stop"}
                    ],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                },
            )
        finally:
            with endpoint.lock:
                endpoint.in_flight -= 1

    def _send(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    server = Endpoint()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_pipelined_ingest_against_a_rate_limited_endpoint_backs_off_and_completes(
    make_memory, new_user, store: Store, endpoint: Endpoint
):
    llm = OpenAILLM(
        "stub",
        api_key="sk-test-rate-limits",
        base_url=f"http://127.0.0.1:{endpoint.server_address[1]}/v1",
        backoff=0.05,
        backoff_max=1.0,
        max_retries=4,
    )
    memory = make_memory(llm=llm)
    users = [new_user(f"rate{i}") for i in range(4)]
    windows = [
        AddWindow(messages=[{"role": "user", "content": f"Turn {i} of user {u}.", "id": f"t{i}"}], user_id=user)
        for i in range(12)
        for u, user in enumerate(users)
    ]
    outcomes = memory.add_many(windows, concurrency=16)

    failed = [str(o) for o in outcomes if not isinstance(o, AddResult)]
    assert not failed, failed[:3]
    assert endpoint.refused > 0 and endpoint.peak > CAPACITY  # the endpoint was pushed past its capacity
    assert llm.flow.refusals == endpoint.refused and llm.flow.limit < 16  # and the flow narrowed
    print(f"served {endpoint.served}, refused {endpoint.refused}, peak {endpoint.peak}, limit {llm.flow.limit:.1f}")
    assert endpoint.refused < endpoint.served  # slowed down, rather than hammering at 16 calls a time
    stored = store.run_text("MATCH (m:Message) WHERE m.user_id IN $users RETURN count(m) AS n", {"users": users})[0][
        "n"
    ]
    assert stored == len(windows)
