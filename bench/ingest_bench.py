"""Ingest throughput with an LLM's latency: serial against pipelined (`add_many`).

    .venv/bin/python -m bench.ingest_bench --latency 1.0 --concurrency 1 4 16 64

The LLM is a ScriptedLLM that sleeps `--latency` seconds on every call and answers as the
offline extractor and resolver do (deterministic), standing in for a model endpoint. The
turns are LOCOMO's (../shared/datasets/locomo/locomo10.json, read in place): its 20 speaker
scopes, the first `--windows` windows of 2 turns of each, interleaved as `graphmem ingest`
sends a multi-conversation file. Each concurrency level writes into scopes of its own.

Prints messages/s per level and the speed-up over concurrency 1, LLM calls, and engine time
per add without the LLM (the stages' time minus the LLM's: embedding, matching, conflict
detection, resolution logic, the write). Writes bench/results/ingest.json; its data (user ids
starting with "bench-ingest-") is deleted at the end.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path
from typing import Any

from .common import add_server_args, connect, delete_bench_data, environment, log, ms, percentile, write_json

PREFIX = "bench-ingest-"
LOCOMO = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "locomo" / "locomo10.json"


def windows_for(level: int, per_scope: int, path: Path) -> list[Any]:
    from graphmem.write.ingest import windows_of
    from graphmem.write.transcripts import read_transcript

    scopes = []
    for conv in read_transcript(path, "locomo"):
        windows = itertools.islice(
            windows_of(conv.messages, user_id=f"{PREFIX}c{level}-{conv.user_id}", batch_size=2, context_size=10),
            per_scope,
        )
        scopes.append(list(windows))
    return [w for group in itertools.zip_longest(*scopes) for w in group if w is not None]


def run_level(memory: Any, windows: list[Any], concurrency: int) -> dict[str, Any]:
    from graphmem import AddResult

    started = time.perf_counter()
    outcomes = memory.add_many(windows, concurrency=concurrency)
    wall = time.perf_counter() - started
    results = [o for o in outcomes if isinstance(o, AddResult)]
    engine = [sum(r.usage.stages.values()) - r.usage.llm_seconds for r in results if r.usage.stages]
    messages = sum(len(w.messages) for w in windows)
    return {
        "concurrency": concurrency,
        "windows": len(windows),
        "messages": messages,
        "failed_windows": len(outcomes) - len(results),
        "wall_seconds": round(wall, 2),
        "messages_per_second": round(messages / wall, 2),
        "llm_calls": sum(r.usage.llm_calls for r in results),
        "llm_calls_per_add": round(sum(r.usage.llm_calls for r in results) / max(len(results), 1), 2),
        "facts_added": sum(len(r.added) for r in results),
        "engine_ms_per_add": {"p50": ms(percentile(engine, 50)), "p95": ms(percentile(engine, 95))},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, default=1.0, help="seconds the scripted LLM takes per call")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument("--windows", type=int, default=4, help="windows (of 2 turns) per speaker scope")
    parser.add_argument("--locomo", type=Path, default=LOCOMO)
    add_server_args(parser)
    args = parser.parse_args(argv)
    if not args.locomo.is_file():
        raise SystemExit(f"{args.locomo} not found: give --locomo PATH (LOCOMO, CC BY-NC 4.0; read in place)")

    from graphmem import GraphMemory
    from graphmem.embed.minilm import MiniLMEmbedder
    from graphmem.llm import ScriptedLLM

    settings, store = connect(args)
    leftovers = delete_bench_data(store, PREFIX)
    if leftovers:
        log(f"deleted {leftovers} nodes left by an earlier run")
    embedder = MiniLMEmbedder()
    levels = []
    try:
        for concurrency in args.concurrency:
            memory = GraphMemory(store, llm=ScriptedLLM(latency=args.latency), embedder=embedder, settings=settings)
            windows = windows_for(concurrency, args.windows, args.locomo)
            log(f"concurrency {concurrency}: {len(windows)} windows")
            levels.append(run_level(memory, windows, concurrency))
            log(f"  {levels[-1]['messages_per_second']} messages/s")
        base = levels[0]["messages_per_second"]
        for level in levels:
            level["speedup"] = round(level["messages_per_second"] / base, 2)
        report = {
            "latency_seconds": args.latency,
            "windows_per_scope": args.windows,
            "levels": levels,
            "environment": environment(store),
        }
        print_report(report)
        log(f"wrote {write_json('ingest.json', report)}")
    finally:
        log(f"deleted {delete_bench_data(store, PREFIX)} benchmark nodes")
        store.close()
    return 0


def print_report(report: dict[str, Any]) -> None:
    print(f"scripted LLM latency {report['latency_seconds']} s per call")
    for level in report["levels"]:
        print(
            f"  concurrency {level['concurrency']:3}: {level['messages']} messages in {level['wall_seconds']:7.1f} s, "
            f"{level['messages_per_second']:6.2f} messages/s ({level['speedup']:5.2f}x), "
            f"{level['llm_calls_per_add']} LLM calls/add, engine per add p50 {level['engine_ms_per_add']['p50']} ms "
            f"p95 {level['engine_ms_per_add']['p95']} ms"
        )


if __name__ == "__main__":
    sys.exit(main())
