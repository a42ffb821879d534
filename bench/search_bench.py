"""Search latency and recall at growing memory sizes.

    .venv/bin/python -m bench.search_bench --sizes 1000 10000 100000

For each size N it grows synthetic memories to N facts plus N conversation turns (one
:Message per fact, telling it) spread over --users users (bulk UNWIND loads, see
bench/synth.py), next to the hand-written retrieval fixture of tests/integration/test_retrieval.py
(bench/fixtures.py, written through GraphMemory into a few users). Then it times ~--queries
searches per mode, every mode of graphmem.search.recipes.MODES, each called as the default call
makes it (associative and hybrid also return the best turns, `episodes=5`):

* engine: the query embedding is computed beforehand and passed in (`embedding=`), so the
  time is graphmem + Neo4j only. associative also embeds the query's words, through the
  phrase cache: the warm-up fills it, and `model_texts` counts what the model embedded
  during the timed searches (0 expected) and during the warm-up (the cold-cache cost);
* with embedding: the search embeds the query itself (MiniLM on this machine's CPU).

It prints p50/p95 per mode, the Neo4j round trips per search, a `RETURN 1` round trip as
the floor of this machine, Recall@10 on the hand-written queries and on templated
questions about random synthetic users, and for the modes that return turns, the share of
templated questions whose answering turn is among them. Results go to
bench/results/search.json. All data is written under user ids starting with
"bench-search-" and deleted at the end.

--paths: `auto` is the default retriever, its scope cache (graphmem/cache/scope_cache.py) filled by
the warm-up pass, as in a process that has searched these scopes before; `cold` empties the
cache before every search (each search is a scope's first: it scans in Neo4j, and the scope
loads in the background, untimed); `nocache` ranks
the lists by scanning in Neo4j, as graphmem did before the cache. The bulk
loads move no scope clock, so each size and path gets a cache of its own.

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

from graphmem.cache.scope_cache import ScopeCache
from graphmem.embed.base import Embedder
from graphmem.store.queries import Queries

from . import fixtures as fx
from .common import add_server_args, connect, delete_bench_data, environment, log, ms, percentile, write_json

PREFIX = "bench-search-"
#: modes whose lists run at once on the default path, hence also timed with --paths serial
SEVERAL_LISTS = ("associative", "hybrid")
PATHS = ("auto", "cold", "nocache", "serial", "index", "index-k300")
SETTLE_S = 15  # seconds of rest after a bulk load: the first path timed had run beside its flush
CACHE_MB = 1024  # the auto path's scope cache: all synthetic users fit at 100k facts + 100k turns
FIXTURE_USERS = 3


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.search_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000], help="synthetic facts in all")
    parser.add_argument("--users", type=int, default=100, help="synthetic users the facts are spread over")
    parser.add_argument("--pool", type=int, default=4000, help="distinct fact sentences embedded with MiniLM")
    parser.add_argument("--queries", type=int, default=50, help="timed queries per mode (20 are hand-written)")
    parser.add_argument("--limit", type=int, default=10)
    parser.add_argument(
        "--paths",
        nargs="+",
        choices=PATHS,
        default=["auto", "cold", "nocache", "serial", "index", "index-k300"],
        help="retriever configurations to time: auto (the default Retriever, its scope cache "
        "filled by the warm-up), cold (the same, its cache emptied before every search: a "
        "scope's first search), nocache (no scope cache: the lists scan in Neo4j), serial "
        "(nocache, the lists of associative and hybrid one after the other), index (shared "
        "indexes, k scaled by the scope's share), index-k300 (shared indexes, fixed top-300 as before)",
    )
    parser.add_argument("--keep", action="store_true", help="do not delete the benchmark data at the end")
    add_server_args(parser)
    return parser.parse_args(argv)


class CountingEmbedder(Embedder):
    """The model, counting the texts it embeds: shows whether a timed search called it."""

    def __init__(self, inner: Embedder):
        self.inner = inner
        self.dim = inner.dim
        self.model_name = inner.model_name
        self.texts = 0

    def embed(self, texts: list[str]) -> list[list[float]]:
        self.texts += len(texts)
        return self.inner.embed(texts)


def make_retriever(memory: Any, embedder: Any, path: str, cache: Any = None) -> Any:
    """A retriever for `path`; every one shares the memory's phrase cache, as graphmem's own
    does; auto and cold use `cache` (a ScopeCache)."""
    from graphmem.search.retrieve import Retriever

    class ColdRetriever(Retriever):
        def prepare(self) -> None:
            """Before each timed search, untimed: the previous search's load done, the cache emptied."""
            assert self.cache is not None
            self.cache.wait()
            self.cache.clear()

    options: dict[str, Any] = {
        "auto": {"cache": cache},
        "cold": {"cache": cache},
        "nocache": {},
        "serial": {"parallel": False},
        "index": {"scan_max": 0},
        "index-k300": {"scan_max": 0, "k_min": 300, "k_max": 300},
    }[path]
    kind = ColdRetriever if path == "cold" else Retriever
    return kind(memory.queries, embedder, phrases=memory.phrases, **options)


def time_searches(
    retriever: Any, model: CountingEmbedder, queries: list[dict], mode: str, limit: int, *, pass_embedding: bool
) -> dict:
    from graphmem import Scope, Usage
    from graphmem.search.recipes import DEFAULT_MODE

    seconds, trips, results = [], [], []
    texts_before = model.texts
    for q in queries:
        usage = Usage()
        # the default mode is timed as the default call runs it (hops=None: its full walk); the
        # query's hops set how far entity and hybrid expand, as in tests/integration/test_retrieval.py
        hops = None if mode == DEFAULT_MODE else q["hops"]
        if hasattr(retriever, "prepare"):
            retriever.prepare()
        started = time.perf_counter()
        hits = retriever.search(
            q["text"],
            Scope(user_id=q["user"]),
            mode=mode,
            limit=limit,
            hops=hops,
            embedding=q["embedding"] if pass_embedding else None,
            usage=usage,
        )
        seconds.append(time.perf_counter() - started)
        trips.append(usage.neo4j_round_trips)
        results.append(hits)
    return {"seconds": seconds, "round_trips": trips, "results": results, "model_texts": model.texts - texts_before}


def summary(seconds: list[float]) -> dict[str, float]:
    return {
        "p50_ms": ms(percentile(seconds, 50)),
        "p95_ms": ms(percentile(seconds, 95)),
        "mean_ms": ms(sum(seconds) / len(seconds)),
        "min_ms": ms(min(seconds)),
    }


def recall(searches: list[tuple[dict, Any]]) -> dict[str, Any]:
    """Share of (query, results) with an answering fact among the hits."""
    found = [any(q["match"](h.fact) for h in hits) for q, hits in searches]
    return {
        "recall_at_10": _share(found),
        "n": len(searches),
        "misses": [q["text"] for (q, _), ok in zip(searches, found) if not ok],
    }


def turn_recall(searches: list[tuple[dict, Any]]) -> dict[str, Any]:
    """Share of (query, results) with an answering turn among `results.episodes` (k at most)."""
    found = [any(e.episode.content in q["turns"] for e in hits.episodes) for q, hits in searches]
    return {
        "recall_at_k": _share(found),
        "k": max((len(hits.episodes) for _, hits in searches), default=0),
        "n": len(searches),
        "misses": [q["text"] for (q, _), ok in zip(searches, found) if not ok],
    }


def _share(found: list[bool]) -> float | None:
    return round(sum(found) / len(found), 3) if found else None


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
    from graphmem.embed.minilm import MiniLMEmbedder
    from graphmem.llm import OfflineLLM
    from graphmem.search.recipes import MODES

    from .synth import SyntheticMemories

    settings, store = connect(args)
    log(f"Neo4j at {store.uri}; loading MiniLM")
    embedder = CountingEmbedder(MiniLMEmbedder())
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
            "model_texts = texts the embedding model embedded during the timed engine searches (0 expected: "
            "associative's phrases come from the warmed phrase cache), during the warm-up pass (the cold "
            "phrase cache's cost) and during the with_embedding searches",
            "every synthetic fact comes with one turn (:Message) telling it, same vector; the default mode "
            "runs with hops=None, the others with the query's hops (2 for the fixture's two-hop question)",
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
            time.sleep(SETTLE_S)  # the bulk load's after-work (Community has no db.checkpoint())
            counts = Queries(store).count_data()
            queries = build_queries(synth, args.queries, cached)
            row: dict[str, Any] = {
                "size": size,
                "facts_in_database": counts["facts"],
                "messages_in_database": counts["messages"],
                "facts_per_synthetic_user": synth.loaded,
                "load": load,
                "round_trip_floor": floor_rtt(store),
                "paths": {},
            }
            for path in args.paths:
                # a cache per size and path: the bulk loads do not move the scopes' clocks
                vectors = ScopeCache(memory.queries, embedder.dim, max_bytes=CACHE_MB * 2**20)
                engine_retriever = make_retriever(memory, cached, path, vectors)
                full_retriever = make_retriever(memory, embedder, path, vectors)
                row["paths"][path] = per_mode = {}
                modes = [m for m in MODES if path != "serial" or m in SEVERAL_LISTS]
                # warm-up: plans and pages of every statement, and the phrase cache, for every query
                warmup = {
                    mode: time_searches(engine_retriever, embedder, queries, mode, args.limit, pass_embedding=True)[
                        "model_texts"
                    ]
                    for mode in modes
                }
                vectors.wait()  # auto: every queried scope in the cache before the timed searches
                for mode in modes:
                    engine = time_searches(engine_retriever, embedder, queries, mode, args.limit, pass_embedding=True)
                    # the embedding costs the same on every path: timed on the default one only
                    full = (
                        time_searches(full_retriever, embedder, queries, mode, args.limit, pass_embedding=False)
                        if path == "auto"
                        else None
                    )
                    per_mode[mode] = m = mode_report(mode, queries, engine, full, warmup[mode])
                    log(
                        f"size {size} {path:10s} {mode:11s} engine p50 {m['engine']['p50_ms']} ms "
                        f"p95 {m['engine']['p95_ms']} ms, round trips {m['round_trips']['min']}-"
                        f"{m['round_trips']['max']}, model texts {m['model_texts']}"
                    )
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


def mode_report(mode: str, queries: list[dict], engine: dict, full: dict | None, warmup_texts: int) -> dict:
    """Latency, round trips, model calls and recall of one mode's timed searches."""
    trips = engine["round_trips"]
    hand = [(q, hits) for q, hits in zip(queries, engine["results"]) if q["kind"] == "fixture"]
    synthetic = [(q, hits) for q, hits in zip(queries, engine["results"]) if q["kind"] == "synthetic"]
    returns_facts = mode != "episode"  # the episode mode returns turns only
    # a mode that never returns turns has no turn score (as in bench/quality.py)
    returns_turns = any(hits.episodes for hits in engine["results"])
    return {
        "engine": summary(engine["seconds"]),
        "with_embedding": summary(full["seconds"]) if full else None,
        "round_trips": {"min": min(trips), "max": max(trips), "mean": round(sum(trips) / len(trips), 2)},
        "model_texts": {
            "engine": engine["model_texts"],
            "warmup": warmup_texts,
            "with_embedding": full["model_texts"] if full else None,
        },
        "recall_fixture": recall(hand) if returns_facts else None,
        "recall_synthetic": recall(synthetic) if returns_facts else None,
        "turn_recall_synthetic": turn_recall(synthetic) if returns_turns else None,
    }


def build_queries(synth: Any, count: int, embedder: Any) -> list[dict]:
    """The hand-written queries on fixture user 0, then templated ones on synthetic users."""
    queries = []
    user = f"{PREFIX}fixture-0"
    for q in fx.QUERIES:
        queries.append(
            {
                "kind": "fixture",
                "user": user,
                "text": q.text,
                "hops": q.hops,
                "match": lambda f, q=q: fx.key(f) in q.expected,
            }
        )
    for user, text, (source, relation), turns in synth.queries(max(count - len(queries), 0)):
        queries.append(
            {
                "kind": "synthetic",
                "user": user,
                "text": text,
                "hops": 1,
                "turns": turns,
                "match": lambda f, s=source, r=relation: (f.source, f.relation) == (s, r),
            }
        )
    random.Random(5).shuffle(queries)
    vectors = embedder.embed([q["text"] for q in queries])
    for q, vector in zip(queries, vectors):
        q["embedding"] = vector
    return queries


def print_table(report: dict[str, Any]) -> None:
    head = (
        f"{'facts':>7} {'path':<10} {'mode':<11} {'engine p50':>10} {'p95':>7} {'+embed p50':>10} {'p95':>7} "
        f"{'trips':>5} {'max':>3} {'R@10 hand':>9} {'R@10 synth':>10} {'turn R@k':>8}"
    )
    print(head)
    print("-" * len(head))
    for row in report["sizes"]:
        floor = row["round_trip_floor"]
        print(f"{row['size']:>7} {'RETURN 1':<10} {'':<11} {floor['p50_ms']:>10} {floor['p95_ms']:>7}")
        for path, modes in row["paths"].items():
            for mode, m in modes.items():
                full = m["with_embedding"] or {"p50_ms": "-", "p95_ms": "-"}
                hand, synth = (_cell(m[k], "recall_at_10") for k in ("recall_fixture", "recall_synthetic"))
                turns = _cell(m["turn_recall_synthetic"], "recall_at_k")
                print(
                    f"{row['size']:>7} {path:<10} {mode:<11} {m['engine']['p50_ms']:>10} {m['engine']['p95_ms']:>7} "
                    f"{full['p50_ms']:>10} {full['p95_ms']:>7} "
                    f"{m['round_trips']['mean']:>5} {m['round_trips']['max']:>3} {hand:>9} {synth:>10} {turns:>8}"
                )
    print(
        "times in ms; facts = synthetic facts, each with one turn; engine = query embedding passed in; "
        "trips = Neo4j round trips per search (mean, max); turn R@k = templated questions whose turn is "
        "among the k returned (k = 5 beside facts, 10 for episode)"
    )


def _cell(recall_: dict[str, Any] | None, key: str) -> Any:
    return "-" if recall_ is None else recall_[key]


if __name__ == "__main__":
    sys.exit(main())
