"""Load on `graphmem serve`: concurrent HTTP clients adding and searching, on loopback.

    .venv/bin/python -m bench.serve_load --requests 2000 --clients 16

Starts `graphmem serve` as a process of its own (offline extractor, MiniLM), then runs
`--clients` concurrent httpx clients over a seeded mix of requests: conversation turns
(POST /v1/memories, the write benchmark's templated story, each turn with an id), triplets
(POST /v1/facts, each a new fact) and searches (POST /v1/search), spread over `--users`
scopes. Prints throughput, p50/p95 per endpoint and the error count, then proves that no add
was lost: every turn answered 200 is stored once, and every fact the service reported added is
stored exactly once. Writes bench/results/serve_load.json; its data (user ids starting with
"bench-serve-") is deleted at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .common import (
    add_server_args,
    connect,
    delete_bench_data,
    environment,
    log,
    ms,
    percentile,
    run_statement,
    write_json,
)
from .write_bench import make_messages

PREFIX = "bench-serve-"
QUESTIONS = [
    "Where do I live?",
    "Where do I work?",
    "Who are my friends?",
    "What do I enjoy?",
    "Where does my sister work?",
]


def plan(requests: int, users: int, seed: int) -> list[tuple[str, dict[str, Any]]]:
    """(path, body) pairs: 40% turns, 20% triplets, 40% searches."""
    rng = random.Random(seed)
    turns = iter(make_messages(requests, users, seed))
    out: list[tuple[str, dict[str, Any]]] = []
    for i in range(requests):
        user = f"{PREFIX}{i % users}"
        kind = rng.choices(["turn", "triplet", "search"], weights=[40, 20, 40])[0]
        if kind == "turn":
            _, message = next(turns)
            out.append(("/v1/memories", {"messages": [{**message, "id": f"turn-{i}"}], "user_id": user}))
        elif kind == "triplet":
            triplet = {"source": f"Person {i}", "source_type": "Person", "relation": "owns", "target": f"Item {i}"}
            out.append(("/v1/facts", {"triplets": [triplet], "user_id": user}))
        else:
            out.append(("/v1/search", {"query": rng.choice(QUESTIONS), "user_id": user, "limit": 10}))
    return out


async def drive(base: str, token: str, work: list[tuple[str, dict[str, Any]]], clients: int) -> list[dict[str, Any]]:
    import httpx

    queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
    for item in work:
        queue.put_nowait(item)
    rows: list[dict[str, Any]] = []

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=300) as http:
            while not queue.empty():
                path, body = queue.get_nowait()
                started = time.perf_counter()
                try:
                    response = await http.post(path, json=body)
                    status, data = response.status_code, response.json()
                except Exception as exc:  # counted as an error, with its kind
                    status, data = 0, {"error": repr(exc)}
                rows.append({"path": path, "seconds": time.perf_counter() - started, "status": status, "data": data})
                if len(rows) % 200 == 0:
                    log(f"{len(rows)} requests")

    await asyncio.gather(*(client() for _ in range(clients)))
    return rows


def start_service(
    settings: Any, token: str, home: str, *, extra_env: dict[str, str] | None = None, command: list[str] | None = None
) -> tuple[subprocess.Popen[str], str]:
    """`graphmem serve` (or `command`, taking the same arguments) on a free loopback port."""
    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "GRAPHMEM_", "NEO4J_"))}
    env.update(
        {
            "NEO4J_URI": settings.bolt_uri,
            "NEO4J_USER": settings.neo4j_user,
            "NEO4J_PASSWORD": settings.password(),
            "GRAPHMEM_LLM_PROVIDER": "offline",
            "GRAPHMEM_API_TOKEN": token,
            "GRAPHMEM_HOME": home,
            "HF_HUB_OFFLINE": "1",
            **(extra_env or {}),
        }
    )
    graphmem = command or [str(Path(sys.executable).parent / "graphmem")]
    proc = subprocess.Popen([*graphmem, "serve", "--port", str(port)], env=env, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(
                f"graphmem serve exited with {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}"
            )
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("graphmem serve did not answer within 180 s")


def summarize(rows: list[dict[str, Any]], wall: float) -> dict[str, Any]:
    per_path: dict[str, Any] = {}
    for path in sorted({r["path"] for r in rows}):
        seconds = [r["seconds"] for r in rows if r["path"] == path]
        per_path[path] = {
            "requests": len(seconds),
            "p50_ms": ms(percentile(seconds, 50)),
            "p95_ms": ms(percentile(seconds, 95)),
            "max_ms": ms(max(seconds)),
        }
    errors = [r for r in rows if r["status"] != 200]
    return {
        "requests": len(rows),
        "wall_seconds": round(wall, 2),
        "requests_per_second": round(len(rows) / wall, 1),
        "errors": len(errors),
        "error_samples": [{"path": r["path"], "status": r["status"], "data": r["data"]} for r in errors[:5]],
        "endpoints": per_path,
    }


def check_nothing_lost(store: Any, rows: list[dict[str, Any]]) -> dict[str, Any]:
    turns = sum(1 for r in rows if r["path"] == "/v1/memories" and r["status"] == 200)
    fact_ids = [f["id"] for r in rows if r["path"] == "/v1/facts" and r["status"] == 200 for f in r["data"]["added"]]
    triplets = sum(1 for r in rows if r["path"] == "/v1/facts" and r["status"] == 200)
    (found,) = run_statement(store, "load_check", {"prefix": PREFIX, "fact_ids": fact_ids})
    copies = {f["id"]: f["copies"] for f in found["facts"] if f["id"] is not None}
    return {
        "turns_answered": turns,
        "turns_stored": found["messages"],
        "triplets_answered": triplets,
        "facts_reported_added": len(fact_ids),
        "facts_stored_once": sum(1 for i in fact_ids if copies.get(i) == 1),
        "ok": found["messages"] == turns and len(fact_ids) == triplets and all(copies.get(i) == 1 for i in fact_ids),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.serve_load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    add_server_args(parser)
    args = parser.parse_args(argv)

    settings, store = connect(args)
    leftovers = delete_bench_data(store, PREFIX)
    if leftovers:
        log(f"deleted {leftovers} nodes left by an earlier run")
    token = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory() as home:
        log("starting graphmem serve (loads MiniLM)")
        proc, base = start_service(settings, token, home)
        try:
            work = plan(args.requests, args.users, args.seed)
            asyncio.run(drive(base, token, [("/v1/search", {"query": "warm up", "user_id": f"{PREFIX}warm"})], 1))
            load_before = os.getloadavg()
            started = time.perf_counter()
            rows = asyncio.run(drive(base, token, work, args.clients))
            wall = time.perf_counter() - started
            report = {
                "args": {k: v for k, v in vars(args).items() if k in ("requests", "clients", "users", "seed")},
                **summarize(rows, wall),
                "nothing_lost": check_nothing_lost(store, rows),
                "load_average_before": load_before,
                "environment": environment(store),
            }
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=120)
            log(f"graphmem serve stopped (exit {code})")
        print_report(report)
        path = write_json("serve_load.json", report)
        log(f"wrote {path}")
    deleted = delete_bench_data(store, PREFIX)
    log(f"deleted {deleted} benchmark nodes")
    store.close()
    return 0 if report["errors"] == 0 and report["nothing_lost"]["ok"] else 1


def print_report(report: dict[str, Any]) -> None:
    print(
        f"{report['requests']} requests from {report['args']['clients']} clients in {report['wall_seconds']} s: "
        f"{report['requests_per_second']} requests/s, {report['errors']} errors"
    )
    for path, row in report["endpoints"].items():
        print(f"  {path:14} {row['requests']:5} requests  p50 {row['p50_ms']:8.1f} ms  p95 {row['p95_ms']:8.1f} ms")
    lost = report["nothing_lost"]
    print(
        f"  turns answered {lost['turns_answered']}, stored {lost['turns_stored']}; facts reported added "
        f"{lost['facts_reported_added']}, stored once {lost['facts_stored_once']}: {'OK' if lost['ok'] else 'LOST'}"
    )


if __name__ == "__main__":
    sys.exit(main())
