"""Reads while writes wait on a model: `graphmem serve` behind an OpenAI-compatible endpoint on
loopback that answers every call after `--latency` seconds, as a real model would.

    .venv/bin/python -m bench.slow_model --latency 1 --adders 8 --seconds 20

`--adders` clients add turns without pause (each to its own scope; a 429 is honoured by
waiting its Retry-After) while one client searches without pause. Prints search and add latency
p50/p95, adds stored and refused, and writes bench/results/slow_model.json. Each add costs one
model call (the endpoint finds no entity, so extraction stops after its first stage): the
figure is how long a search waits while adds wait on the model, not extraction quality.
`--before DIR` runs a checkout of an earlier graphmem (PYTHONPATH=DIR) instead, for the same
measurement on the code before a change. Data under user ids "bench-slow-*", deleted at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .common import add_server_args, connect, delete_bench_data, environment, log, ms, percentile, write_json
from .serve_load import start_service

PREFIX = "bench-slow-"
ANSWER = json.dumps({"entities": [], "triplets": [], "decisions": []})


class SlowModel(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, latency: float) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.latency = latency
        self.calls = self.in_flight = self.peak = 0
        self.lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    server: SlowModel

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        model = self.server
        with model.lock:
            model.in_flight += 1
            model.peak = max(model.peak, model.in_flight)
        time.sleep(model.latency)  # the model at work
        with model.lock:
            model.in_flight -= 1
            model.calls += 1
        message = {"role": "assistant", "content": ANSWER}
        body = {
            "id": "slow",
            "object": "chat.completion",
            "created": 0,
            "model": "slow",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 300, "completion_tokens": 20, "total_tokens": 320},
        }
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


async def load(base: str, token: str, adders: int, seconds: float) -> dict[str, list[Any]]:
    import httpx

    rows: dict[str, list[Any]] = {"search": [], "add": [], "refused": [], "errors": []}
    deadline = time.perf_counter() + seconds
    headers = {"Authorization": f"Bearer {token}"}

    async def adder(n: int) -> None:
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=300) as http:
            i = 0
            while time.perf_counter() < deadline:
                turn = {"role": "user", "content": f"Note {i} of adder {n}.", "id": f"n{i}"}
                started = time.perf_counter()
                response = await http.post("/v1/memories", json={"messages": [turn], "user_id": f"{PREFIX}{n}"})
                if response.status_code == 429:
                    rows["refused"].append(time.perf_counter() - started)
                    await asyncio.sleep(float(response.headers.get("retry-after", "1")))
                    continue
                if response.status_code != 200:
                    rows["errors"].append(response.text[:200])
                rows["add"].append(time.perf_counter() - started)
                i += 1

    async def searcher() -> None:
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=300) as http:
            await asyncio.sleep(0.5)  # the adds are under way
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = await http.post("/v1/search", json={"query": "what notes?", "user_id": f"{PREFIX}0"})
                if response.status_code != 200:
                    rows["errors"].append(response.text[:200])
                rows["search"].append(time.perf_counter() - started)

    await asyncio.gather(searcher(), *(adder(n) for n in range(adders)))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.slow_model", description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, default=1.0, help="seconds the endpoint takes per call")
    parser.add_argument("--adders", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--before", default=None, help="a checkout of an earlier graphmem to run instead")
    parser.add_argument("--out", default="slow_model.json")
    add_server_args(parser)
    args = parser.parse_args(argv)

    settings, store = connect(args)
    delete_bench_data(store, PREFIX)
    model = SlowModel(args.latency)
    threading.Thread(target=model.serve_forever, daemon=True).start()
    token = secrets.token_urlsafe(16)
    extra = {
        "GRAPHMEM_LLM_PROVIDER": "openai",
        "OPENAI_BASE_URL": f"http://127.0.0.1:{model.server_address[1]}/v1",
        "OPENAI_API_KEY": "slow-model",
    }
    command = None
    if args.before:
        # first on the path, before the working directory `-c` puts there
        start = f"import sys; sys.path.insert(0, {args.before!r}); sys.argv[0] = 'graphmem'; from graphmem.cli import app; app()"
        command = [sys.executable, "-c", start]
    with tempfile.TemporaryDirectory() as home:
        proc, base = start_service(settings, token, home, extra_env=extra, command=command)
        try:
            log(
                f"{args.adders} adders and 1 searcher for {args.seconds:.0f} s, the model answering in {args.latency} s"
            )
            rows = asyncio.run(load(base, token, args.adders, args.seconds))
        finally:
            proc.terminate()
            proc.wait(60)
    model.shutdown()
    report = {
        "environment": environment(store),
        "config": {k: v for k, v in vars(args).items() if k != "password"},
        "code": args.before or "this checkout",
        "searches": len(rows["search"]),
        "search_ms": {"p50": ms(percentile(rows["search"], 50)), "p95": ms(percentile(rows["search"], 95))},
        "adds_stored": len(rows["add"]),
        "add_ms": {"p50": ms(percentile(rows["add"], 50)), "p95": ms(percentile(rows["add"], 95))},
        "adds_refused_429": len(rows["refused"]),
        "model_calls": model.calls,
        "model_calls_at_once_peak": model.peak,
        "errors": rows["errors"][:5],
    }
    delete_bench_data(store, PREFIX)
    store.close()
    print(json.dumps({k: v for k, v in report.items() if k not in ("environment", "config")}, indent=1))
    log(f"wrote {write_json(args.out, report)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
