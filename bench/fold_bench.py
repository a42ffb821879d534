"""Does folding this process's writes into the scope cache earn its code? An agent's loop,
measured with the fold on and off: each turn searches the user's memory, then adds the turn.

    .venv/bin/python -m bench.fold_bench --turns 400 --users 4

With the fold (the default), a committed add is laid over the cached scope from the very
parameters the write was given (graphmem/cache/writes.py): the next search ranks in memory
at once, and the next add ranks its nearest nodes from the cache. Without it
(`ScopeCache._fold` a no-op, the only change), the next search finds the scope's clock moved
and reloads what changed (the delta reload, one more statement), and an add whose held scope
is behind lets Neo4j rank its neighbours. Same messages, same offline LLM (rules, no model
latency), real MiniLM; prints search and add latency p50/p95 and Neo4j round trips, and
writes bench/results/fold.json.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from .common import add_server_args, connect, delete_bench_data, environment, log, ms, percentile, write_json
from .write_bench import make_messages

PREFIX = "bench-fold-"
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def run(args: argparse.Namespace, fold: bool) -> dict[str, Any]:
    from graphmem import GraphMemory, Usage
    from graphmem.cache.scope_cache import ScopeCache
    from graphmem.embed.minilm import MiniLMEmbedder
    from graphmem.llm import OfflineLLM

    settings, store = connect(args)
    delete_bench_data(store, PREFIX)
    original = ScopeCache._fold
    if not fold:
        ScopeCache._fold = lambda self, key, written: None  # type: ignore[method-assign]
    try:
        memory = GraphMemory(store, llm=OfflineLLM(), embedder=MiniLMEmbedder(), settings=settings)
        run_id = f"{PREFIX}{int(time.time())}"
        users = [f"{run_id}-{u}" for u in range(args.users)]
        searches: list[tuple[float, int]] = []
        adds: list[tuple[float, int]] = []
        memory.search("warm up", user_id=f"{run_id}-warmup")
        for i, (u, message) in enumerate(make_messages(args.turns, args.users)):
            usage = Usage()
            started = time.perf_counter()
            memory.search(message["content"], user_id=users[u], usage=usage)
            searches.append((time.perf_counter() - started, usage.neo4j_round_trips))
            result = memory.add(message, user_id=users[u], timestamp=T0 + timedelta(hours=i))
            adds.append((result.usage.seconds - result.usage.llm_seconds, result.usage.neo4j_round_trips))
        cache = memory.cache
        counts = {"loads": cache.loads, "refreshes": cache.refreshes, "folded": cache.folded} if cache else {}
        half = len(searches) // 2  # the second half: scopes of some size, the cache warm
        return {
            "fold": fold,
            "search_ms": {"p50": ms(percentile([s for s, _ in searches[half:]], 50)),
                          "p95": ms(percentile([s for s, _ in searches[half:]], 95))},
            "search_round_trips_mean": round(sum(r for _, r in searches[half:]) / (len(searches) - half), 2),
            "add_engine_ms": {"p50": ms(percentile([s for s, _ in adds[half:]], 50)),
                              "p95": ms(percentile([s for s, _ in adds[half:]], 95))},
            "add_round_trips_mean": round(sum(r for _, r in adds[half:]) / (len(adds) - half), 2),
            "cache": counts,
        }  # fmt: skip
    finally:
        ScopeCache._fold = original  # type: ignore[method-assign]
        delete_bench_data(store, PREFIX)
        store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fold_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=400)
    parser.add_argument("--users", type=int, default=4)
    add_server_args(parser)
    args = parser.parse_args(argv)
    results = []
    for fold in (True, False, True, False):  # twice each, interleaved: a busy machine drifts
        log(f"fold {'on' if fold else 'off'}: {args.turns} turns over {args.users} users")
        results.append(run(args, fold))
        log(str(results[-1]))
    settings, store = connect(args)
    report = {"environment": environment(store), "config": vars(args) | {"password": None}, "runs": results}
    store.close()
    print(f"{'fold':<5} {'search p50':>10} {'p95':>7} {'trips':>6} {'add p50':>8} {'p95':>7} {'trips':>6}  cache")
    for r in results:
        s, a = r["search_ms"], r["add_engine_ms"]
        print(
            f"{'on' if r['fold'] else 'off':<5} {s['p50']:>10} {s['p95']:>7} {r['search_round_trips_mean']:>6} "
            f"{a['p50']:>8} {a['p95']:>7} {r['add_round_trips_mean']:>6}  {r['cache']}"
        )
    log(f"wrote {write_json('fold.json', report)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
