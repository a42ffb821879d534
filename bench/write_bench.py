"""Write-path cost per add: one synthetic first-person message per GraphMemory.add.

    .venv/bin/python -m bench.write_bench --messages 1000

The messages are templated ("I live in X", "I work at Y", "My friend Z lives in W",
"I moved to V", "Z moved to U", "I like F", ...), so moves and job changes invalidate
earlier facts. The LLM is the offline rule-based extractor/resolver (OfflineLLM) inside a
ScriptedLLM, which only adds call counting and timing: its time is `usage.llm_seconds`, and
the engine time of an add is `usage.seconds - usage.llm_seconds` (embedding with the real
MiniLM, node matching, conflict detection, the write transaction, and graphmem itself).

Prints engine time per add (p50/p95, overall and per stage), Neo4j round trips and LLM
calls per add, adds/second, and writes bench/results/write.json. Everything is written
under user ids starting with "bench-write-" and deleted at the end.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from .common import add_server_args, connect, delete_bench_data, environment, log, ms, percentile, write_json

PREFIX = "bench-write-"
SPEAKERS = ["Sam", "Maya", "Theo", "Ines", "Kofi", "Lena", "Omar", "Vera"]
KIN = ["friend", "sister", "brother", "colleague", "cousin", "neighbour"]
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def make_messages(n: int, users: int, seed: int = 7) -> list[tuple[int, dict[str, str]]]:
    """n (user index, message) pairs, users taking turns; each user's story is consistent."""
    from .synth import CITIES, FOODS, HOBBIES, NAMES, ORGS

    rng = random.Random(seed)
    state = [{"city": None, "org": None, "people": {}} for _ in range(users)]
    out = []
    for i in range(n):
        u = i % users
        me, st = SPEAKERS[u % len(SPEAKERS)], state[u]
        kind = rng.choices(
            ["home", "job", "kin_lives", "kin_works", "kin_moves", "likes", "enjoys", "allergy"],
            weights=[10, 8, 20, 14, 10, 14, 14, 4],
        )[0]
        city, org = rng.choice(CITIES), rng.choice(ORGS).replace("-", " ")
        if kind == "kin_moves" and not st["people"]:
            kind = "kin_lives"
        if kind == "home":
            text = f"I moved to {city}" if st["city"] else f"I live in {city}"
            st["city"] = city
        elif kind == "job":
            text = f"I work at {org}"
            st["org"] = org
        elif kind in ("kin_lives", "kin_works"):
            name = rng.choice([n for n in NAMES if n != me])
            kin = st["people"].setdefault(name, rng.choice(KIN))
            text = f"My {kin} {name} lives in {city}" if kind == "kin_lives" else f"My {kin} {name} works at {org}"
        elif kind == "kin_moves":
            name = rng.choice(sorted(st["people"]))
            text = f"{name} moved to {city}"
        elif kind == "likes":
            text = f"I like {rng.choice(FOODS)}"
        elif kind == "enjoys":
            text = f"I enjoy {rng.choice(HOBBIES)}"
        else:
            text = f"I am allergic to {rng.choice(FOODS)}"
        out.append((u, {"role": "user", "name": me, "content": text}))
    return out


def stats(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": ms(percentile(values, 50)),
        "p95_ms": ms(percentile(values, 95)),
        "mean_ms": ms(sum(values) / len(values)),
        "max_ms": ms(max(values)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.write_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--users", type=int, default=1, help="the messages are spread over this many memories")
    parser.add_argument("--keep", action="store_true", help="do not delete the benchmark data at the end")
    parser.add_argument(
        "--ontology",
        default=None,
        help="an ontology file or built-in name (personal): its declarations decide conflicts without the LLM; "
        "results go to write-ontology.json",
    )
    add_server_args(parser)
    args = parser.parse_args(argv)

    from graphmem import GraphMemory
    from graphmem.embed.minilm import MiniLMEmbedder
    from graphmem.llm import ScriptedLLM

    settings, store = connect(args)
    log(f"Neo4j at {store.uri}; loading MiniLM")
    memory = GraphMemory(store, llm=ScriptedLLM(), embedder=MiniLMEmbedder(), settings=settings, ontology=args.ontology)
    leftovers = delete_bench_data(store, PREFIX)
    if leftovers:
        log(f"deleted {leftovers} nodes left by an earlier run")
    run = f"{PREFIX}{int(time.time())}"
    users = [f"{run}-{u}" for u in range(args.users)]
    messages = make_messages(args.messages, args.users)
    rows: list[dict[str, Any]] = []
    try:
        memory.add({"role": "user", "name": "Warm", "content": "I live in Oslo"}, user_id=f"{run}-warmup")
        started = time.perf_counter()
        for i, (u, message) in enumerate(messages):
            result = memory.add(message, user_id=users[u], timestamp=T0 + timedelta(hours=i))
            usage = result.usage
            rows.append(
                {
                    "seconds": usage.seconds,
                    "llm_seconds": usage.llm_seconds,
                    "engine_seconds": usage.seconds - usage.llm_seconds,
                    "stages": dict(usage.stages),
                    "round_trips": usage.neo4j_round_trips,
                    "llm_calls": usage.llm_calls,
                    "resolve_calls": sum(1 for c in usage.calls if c.operation == "resolve" and not c.cached),
                    "added": len(result.added),
                    "invalidated": len(result.invalidated),
                    "noop": len(result.noop),
                }
            )
            if (i + 1) % 100 == 0:
                log(f"{i + 1} adds, engine p50 so far {ms(percentile([r['engine_seconds'] for r in rows], 50))} ms")
        wall = time.perf_counter() - started
        report = summarize(rows, wall, args, store, memory, users)
        print_report(report)
        path = write_json("write-ontology.json" if args.ontology else "write.json", report)
        log(f"wrote {path}")
    finally:
        if not args.keep:
            deleted = delete_bench_data(store, PREFIX)
            log(f"deleted {deleted} benchmark nodes")
        store.close()
    return 0


def summarize(
    rows: list[dict], wall: float, args: argparse.Namespace, store: Any, memory: Any, users: list[str]
) -> dict[str, Any]:
    engine = [r["engine_seconds"] for r in rows]
    stages = sorted({s for r in rows for s in r["stages"]})
    trips = [r["round_trips"] for r in rows]
    calls = [r["llm_calls"] for r in rows]
    tenth = max(len(rows) // 10, 1)
    facts = sum(len(memory.get_all(user_id=u, include_invalidated=True)) for u in users)
    valid = sum(len(memory.get_all(user_id=u)) for u in users)
    return {
        "environment": environment(store),
        "config": {k: v for k, v in vars(args).items() if k != "password"},
        "notes": [
            "LLM = OfflineLLM rules inside ScriptedLLM (counted and timed as LLM time)",
            "engine = usage.seconds - usage.llm_seconds: embedding (MiniLM), Neo4j, graphmem",
            "stage 'extract' and 'resolve' contain the LLM stand-in's time",
        ],
        "adds": len(rows),
        "wall_seconds": round(wall, 2),
        "adds_per_second": round(len(rows) / wall, 2),
        "engine_per_add": stats(engine),
        "engine_first_10pct": stats(engine[:tenth]),
        "engine_last_10pct": stats(engine[-tenth:]),
        "llm_seconds_per_add": stats([r["llm_seconds"] for r in rows]),
        "stages": {s: stats([r["stages"].get(s, 0.0) for r in rows]) for s in stages},
        "round_trips_per_add": {"min": min(trips), "max": max(trips), "mean": round(sum(trips) / len(trips), 2)},
        "llm_calls_per_add": {"min": min(calls), "max": max(calls), "mean": round(sum(calls) / len(calls), 2)},
        "resolve_calls": sum(r["resolve_calls"] for r in rows),
        "ontology": memory.ontology.name if memory.ontology else None,
        "outcomes": {k: sum(r[k] for r in rows) for k in ("added", "invalidated", "noop")},
        "facts_stored": facts,
        "facts_valid": valid,
    }


def print_report(r: dict[str, Any]) -> None:
    e = r["engine_per_add"]
    print(f"adds: {r['adds']} in {r['wall_seconds']} s = {r['adds_per_second']} adds/s")
    print(
        f"engine per add (excl. LLM): p50 {e['p50_ms']} ms  p95 {e['p95_ms']} ms  mean {e['mean_ms']} ms  "
        f"max {e['max_ms']} ms"
    )
    print(f"  first 10% p50 {r['engine_first_10pct']['p50_ms']} ms, last 10% p50 {r['engine_last_10pct']['p50_ms']} ms")
    print(f"LLM stand-in per add: p50 {r['llm_seconds_per_add']['p50_ms']} ms")
    print(f"{'stage':<10} {'p50 ms':>8} {'p95 ms':>8} {'mean ms':>8}")
    for stage, s in r["stages"].items():
        print(f"{stage:<10} {s['p50_ms']:>8} {s['p95_ms']:>8} {s['mean_ms']:>8}")
    t, c = r["round_trips_per_add"], r["llm_calls_per_add"]
    print(f"Neo4j round trips per add: min {t['min']} max {t['max']} mean {t['mean']}")
    print(f"LLM calls per add: min {c['min']} max {c['max']} mean {c['mean']} (ontology: {r['ontology']})")
    invalidated = r["outcomes"]["invalidated"]
    per = f"{r['resolve_calls'] / invalidated:.2f}" if invalidated else "n/a"
    print(f"resolve calls: {r['resolve_calls']} for {invalidated} invalidated facts ({per} per contradiction)")
    print(f"outcomes: {r['outcomes']}; facts stored {r['facts_stored']} (valid {r['facts_valid']})")


if __name__ == "__main__":
    sys.exit(main())
