"""A tiny OpenAI-compatible /v1/embeddings endpoint on 127.0.0.1 (stdlib http.server in a
thread), shared by tests/unit/test_embed_openai.py and tests/integration/test_embedder_endpoint.py.

Its vectors are HashingEmbedder's (texts sharing words are near), scaled so they are NOT unit
length, optionally listed out of `index` order; it records every request and answers
queued failures first.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from graphmem.embed.hashing import HashingEmbedder


class EmbeddingStub(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, dim: int = 64, *, shuffle: bool = False, scale: float = 3.0) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.dim = dim  # the length it answers with, unless a request asks for `dimensions`
        self.shuffle = shuffle
        self.scale = scale
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []  # the JSON bodies, in arrival order
        self.authorizations: list[str] = []  # each request's Authorization header
        self._failures: list[tuple[int, dict[str, Any], dict[str, str]]] = []
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    @property
    def count(self) -> int:
        with self.lock:
            return len(self.requests)

    def fail_next(self, status: int, error: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        """Answer the next request with this status and {"error": error} (queued, in order)."""
        with self.lock:
            self._failures.append((status, {"error": error}, headers or {}))

    def vectors(self, texts: list[str], dim: int) -> list[list[float]]:
        """What the stub returns for the texts (before any shuffling): not unit length."""
        return [[v * self.scale * (i + 1) for v in vec] for i, vec in enumerate(HashingEmbedder(dim).embed(texts))]

    def start(self) -> EmbeddingStub:
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: EmbeddingStub

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
        stub = self.server
        with stub.lock:
            stub.requests.append(body)
            stub.authorizations.append(self.headers.get("authorization", ""))
            failure = stub._failures.pop(0) if stub._failures else None
        if failure is not None:
            status, error, headers = failure
            self._send(status, error, headers)
            return
        if self.path.rstrip("/") != "/v1/embeddings":
            self._send(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})
            return
        texts = body.get("input")
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, list) or any(not isinstance(t, str) or t == "" for t in texts):
            # as OpenAI: an empty string (or no input) is a bad request
            self._send(400, {"error": {"message": "'$.input' is invalid", "type": "invalid_request_error"}})
            return
        dim = int(body.get("dimensions") or stub.dim)
        items = [
            {"object": "embedding", "index": i, "embedding": vec} for i, vec in enumerate(stub.vectors(texts, dim))
        ]
        if stub.shuffle:
            items.reverse()  # the API lists them by `index`; a client must not rely on that
        self._send(
            200,
            {
                "object": "list",
                "data": items,
                "model": body.get("model", "stub"),
                "usage": {"prompt_tokens": len(texts), "total_tokens": len(texts)},
            },
        )

    def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
