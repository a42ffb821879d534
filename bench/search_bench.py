"""Search latency and recall at growing memory sizes.

    .venv/bin/python -m bench.search_bench --sizes 1000 10000 100000

For each size N it grows synthetic memories to N facts spread over --users users (bulk
UNWIND loads, see bench/synth.py), next to the hand-written retrieval fixture of
tests/test_retrieval.py (bench/fixtures.py, written through GraphMemory into a few users).
Then it times ~--queries searches per mode (hybrid, entity, triplet, keyword):

* engine: the query embedding is computed beforehand and passed in (`embedding=`), so the
  time is graphmem + Neo4j only;
* with embedding: the search embeds the query itself (MiniLM on this machine's CPU).

It prints p50/p95 per mode, the Neo4j round trips per search, a `RETURN 1` round trip as
the floor of this machine, and Recall@10 on the hand-written queries and on templated
questions about random synthetic users. Results go to bench/results/search.json. All data
is written under user ids starting with "bench-search-" and deleted at the end.

--paths also runs the searches with the retriever forced onto the indexes shared by all
scopes (`index`: k scaled by the scope's share; `index-k300`: a fixed top-300, which is what
the search statements did before the exact scan of small scopes was added).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from typing import Any

from . import fixtures as fx
from .common import add_server_args, connect, delete_bench_data, environment, log, ms, percentile, write_json

PREFIX = "bench-search-"
MODES = ("hybrid", "entity", "triplet", "keyword")
PATHS = ("auto", "serial", "index", "index-k300")
FIXTURE_USERS = 3


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.search_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000], help="synthetic facts in all")
    parser.add_argument("--users", type=int, default=100, help="synthetic users the facts are spread over")
    parser.add_argument("--pool", type=int, default=4000, help="distinct fact sentences embedded with MiniLM")
    parser.add_argument("--queries", type=int, default=50, help="timed queries per mode (20 are hand-written)")
    parser.add_argument("--limit", type=int, default=10)
    parser.add_argument("--paths", nargs="+", choices=PATHS, default=["auto", "serial", "index", "index-k300"],
                        help="retriever configurations to time: auto (the default Retriever), serial (hybrid's "
                             "lists one after the other), index (shared indexes, k scaled by the scope's share), "
                             "index-k300 (shared indexes, fixed top-300 as before)")
    parser.add_argument("--keep", action="store_true", help="do not delete the benchmark data at the end")
    add_server_args(parser)
    return parser.parse_args(argv)


def make_retriever(memory: Any, embedder: Any, path: str) -> Any:
    from graphmem._retrieve import Retriever

    if path == "auto":
        return Retriever(memory.store, embedder)
    if path == "serial":
        return Retriever(memory.store, embedder, parallel=False)
    if path == "index":
        return Retriever(memory.store, embedder, scan_max=0)
    return Retriever(memory.store, embedder, scan_max=0, k_min=300, k_max=300)


def time_searches(retriever: Any, queries: list[dict], mode: str, limit: int, *, pass_embedding: bool) -> dict:
    from graphmem import Scope, Usage

    seconds, trips, results = [], [], []
    for q in queries:
        usage = Usage()
        started = time.perf_counter()
        hits = retriever.search(
            q["text"], Scope(user_id=q["user"]), mode=mode, limit=limit, hops=q["hops"],
            embedding=q["embedding"] if pass_embedding else None, usage=usage,
        )
        seconds.append(time.perf_counter() - started)
        trips.append(usage.neo4j_round_trips)
        results.append(hits)
    return {"seconds": seconds, "round_trips": trips, "results": results}


def summary(seconds: list[float]) -> dict[str, float]:
    return {"p50_ms": ms(percentile(seconds, 50)), "p95_ms": ms(percentile(seconds, 95)),
            "mean_ms": ms(sum(seconds) / len(seconds)), "min_ms": ms(min(seconds))}


def recall(queries: list[dict], results: list[Any]) -> dict[str, Any]:
    found, misses = 0, []
    for q, hits in zip(queries, results):
        if any(q["match"](h.fact) for h in hits):
            found += 1
        else:
            misses.append(q["text"])
    return {"recall_at_10": round(found / len(queries), 3) if queries else None, "n": len(queries), "misses": misses}


def floor_rtt(store: Any, n: int = 30) -> dict[str, float]:
    seconds = []
    for _ in range(n):
        started = time.perf_counter()
        store.run_text("RETURN 1 AS one")
        seconds.append(time.perf_counter() - started)
    return summary(seconds)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from graphmem import GraphMemory
    from graphmem.embed.sentence_transformers import SentenceTransformerEmbedder
    from graphmem.llm import OfflineLLM

    from .synth import SyntheticMemories

    settings, store = connect(args)
    log(f"Neo4j at {store.uri}; loading MiniLM")
    embedder = SentenceTransformerEmbedder()
    cached = fx.CachedEmbedder(embedder)
    memory = GraphMemory(store, llm=OfflineLLM(), embedder=cached, settings=settings)
    leftovers = delete_bench_data(store, PREFIX)
    if leftovers:
        log(f"deleted {leftovers} nodes left by an earlier run")
    report: dict[str, Any] = {
        "environment": environment(store),
        "config": {k: v for k, v in vars(args).items() if k != "password"},
        "notes": [
            "engine = search with the query embedding passed in; with_embedding = the search embeds the query",
            "synthetic facts reuse a pool of --pool MiniLM-embedded sentences, each vector perturbed "
            "(Gaussian, sigma 0.01 per dimension, cosine ~0.98) and re-normalised",
        ],
        "sizes": [],
    }
    try:
        started = time.perf_counter()
        fixture_users = [f"{PREFIX}fixture-{i}" for i in range(FIXTURE_USERS)]
        for user in fixture_users:
            fx.build(memory, user)
        log(f"fixture written into {FIXTURE_USERS} users in {time.perf_counter() - started:.1f} s")
        synth = SyntheticMemories(store, embedder, prefix=PREFIX, users=args.users, pool_size=args.pool)
        for size in sorted(args.sizes):
            log(f"growing synthetic memories to {size} facts")
            load = synth.grow_to(size)
            log(f"loaded {load}")
            counts = store.run("count_data")[0]
            queries = build_queries(synth, args.queries, cached)
            row: dict[str, Any] = {"size": size, "facts_in_database": counts["facts"],
                                   "facts_per_synthetic_user": synth.loaded, "load": load,
                                   "round_trip_floor": floor_rtt(store), "paths": {}}
            for path in args.paths:
                engine_retriever = make_retriever(memory, cached, path)
                full_retriever = make_retriever(memory, embedder, path)
                row["paths"][path] = per_mode = {}
                modes = ("hybrid",) if path == "serial" else MODES  # only hybrid runs lists in parallel
                for mode in modes:  # warm-up: plans and pages of every statement, for every query
                    time_searches(engine_retriever, queries, mode, args.limit, pass_embedding=True)
                for mode in modes:
                    engine = time_searches(engine_retriever, queries, mode, args.limit, pass_embedding=True)
                    # the embedding costs the same on every path: timed on the default one only
                    full = (time_searches(full_retriever, queries, mode, args.limit, pass_embedding=False)
                            if path == "auto" else None)
                    hand = [i for i, q in enumerate(queries) if q["kind"] == "fixture"]
                    synthetic = [i for i, q in enumerate(queries) if q["kind"] == "synthetic"]
                    per_mode[mode] = {
                        "engine": summary(engine["seconds"]),
                        "with_embedding": summary(full["seconds"]) if full else None,
                        "round_trips": {"min": min(engine["round_trips"]), "max": max(engine["round_trips"]),
                                        "mean": round(sum(engine["round_trips"]) / len(queries), 2)},
                        "recall_fixture": recall([queries[i] for i in hand], [engine["results"][i] for i in hand]),
                        "recall_synthetic": recall([queries[i] for i in synthetic],
                                                   [engine["results"][i] for i in synthetic]),
                    }
                    log(f"size {size} {path:10s} {mode:8s} engine p50 {per_mode[mode]['engine']['p50_ms']} ms "
                        f"p95 {per_mode[mode]['engine']['p95_ms']} ms")
            report["sizes"].append(row)
            write_json("search.json", report)
        print_table(report)
        path = write_json("search.json", report)
        log(f"wrote {path}")
    finally:
        if not args.keep:
            started = time.perf_counter()
            deleted = delete_bench_data(store, PREFIX)
            log(f"deleted {deleted} benchmark nodes in {time.perf_counter() - started:.1f} s")
        store.close()
    return 0


def build_queries(synth: Any, count: int, embedder: Any) -> list[dict]:
    """The hand-written queries on fixture user 0, then templated ones on synthetic users."""
    queries = []
    user = f"{PREFIX}fixture-0"
    for q in fx.QUERIES:
        queries.append({"kind": "fixture", "user": user, "text": q.text, "hops": q.hops,
                        "match": lambda f, q=q: fx.key(f) in q.expected})
    for user, text, (source, relation) in synth.queries(max(count - len(queries), 0)):
        queries.append({"kind": "synthetic", "user": user, "text": text, "hops": 1,
                        "match": lambda f, s=source, r=relation: (f.source, f.relation) == (s, r)})
    random.Random(5).shuffle(queries)
    vectors = embedder.embed([q["text"] for q in queries])
    for q, vector in zip(queries, vectors):
        q["embedding"] = vector
    return queries


def print_table(report: dict[str, Any]) -> None:
    head = (f"{'facts':>7} {'path':<10} {'mode':<8} {'engine p50':>10} {'p95':>7} {'+embed p50':>10} {'p95':>7} "
            f"{'trips':>5} {'R@10 hand':>9} {'R@10 synth':>10}")
    print(head)
    print("-" * len(head))
    for row in report["sizes"]:
        floor = row["round_trip_floor"]
        print(f"{row['size']:>7} {'RETURN 1':<10} {'':<8} {floor['p50_ms']:>10} {floor['p95_ms']:>7}")
        for path, modes in row["paths"].items():
            for mode, m in modes.items():
                full = m["with_embedding"] or {"p50_ms": "-", "p95_ms": "-"}
                print(f"{row['size']:>7} {path:<10} {mode:<8} {m['engine']['p50_ms']:>10} {m['engine']['p95_ms']:>7} "
                      f"{full['p50_ms']:>10} {full['p95_ms']:>7} "
                      f"{m['round_trips']['mean']:>5} {m['recall_fixture']['recall_at_10']:>9} "
                      f"{m['recall_synthetic']['recall_at_10']:>10}")
    print("times in ms; engine = query embedding passed in; trips = Neo4j round trips per search (mean)")


if __name__ == "__main__":
    sys.exit(main())
