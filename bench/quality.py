"""Retrieval quality on a seeded synthetic world: Hit@1, Hit@5 and MRR per hop count, per mode.

    .venv/bin/python -m bench.quality --sizes 1000 3000 10000 --questions 100

For each size N it builds a world of about N facts (bench/quality_world.py: families with
kin, employers, cities, instruments, hobbies and pets, with look-alike names), bulk-loads it
into one user scope (entities, facts and one conversation turn per fact, embedded with
MiniLM), and asks --questions questions per hop count (1, 2 and 3 hops) through the public
`GraphMemory.search(question, user_id=..., mode=..., limit=10)`, in every mode the engine
lists in `graphmem.search.recipes.MODES` at run time, plus a `default` row that passes no mode.

A question is answered when its target fact (source, relation, target) is among the hits;
in mode `episode` when the turn that carries the target fact is among `results.episodes`.
Wherever results carry `episodes`, their Hit@5 is reported as well. Latency is the wall time
of the search call (query embedding included) and, apart, the engine time without the
embedding. Results go to bench/results/quality.json; the data is written under user ids
starting with "bench-quality-" and deleted at the end unless --keep.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from graphmem._models import Message, Scope, normalize_name
from graphmem._terms import STEMMER, stem_text
from graphmem.embed.base import Embedder
from graphmem.store.ids import entity_id, fact_id, message_node_id
from graphmem.store.queries import Queries

from .common import (
    PREFIX,
    RESULTS,
    add_server_args,
    connect,
    delete_bench_data,
    environment,
    log,
    ms,
    percentile,
    run_statement,
)
from .quality_world import Question, World, build_world, make_questions
from .synth import cached_embeddings

USER_PREFIX = f"{PREFIX}quality-"
LIMIT = 10  # hits asked per search; MRR is over these
HOPS = (1, 2, 3)
WARMUP = 10  # searches per mode before timing: query plans and page cache
START = datetime(2025, 1, 1, tzinfo=UTC)  # the first turn; one turn every 10 minutes


class TimedEmbedder(Embedder):
    """The real embedder, adding up the time spent in it, so a search's engine time is its wall
    time minus the query embedding (the retriever may embed from its worker threads)."""

    def __init__(self, inner: Embedder):
        self.inner = inner
        self.dim = inner.dim
        self.model_name = inner.model_name
        self.seconds = 0.0
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> list[list[float]]:
        started = time.perf_counter()
        vectors = self.inner.embed(texts)
        with self._lock:
            self.seconds += time.perf_counter() - started
        return vectors


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    from graphmem.search.recipes import MODES

    parser = argparse.ArgumentParser(prog="python -m bench.quality", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 3000, 10000], help="facts in each world")
    parser.add_argument("--questions", type=int, default=100, help="questions per hop count")
    parser.add_argument("--seed", type=int, default=0, help="seed of the worlds and the questions")
    parser.add_argument("--modes", nargs="+", default=list(MODES), help=f"search modes (default: {' '.join(MODES)})")
    parser.add_argument("--batch", type=int, default=1000, help="rows per bulk-load statement")
    parser.add_argument("--keep", action="store_true", help="do not delete the loaded worlds at the end")
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="without the scope cache (search_cache_mb=0): Neo4j ranks every search, as for a scope this "
        "process does not hold",
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "quality.json", help="JSON results file")
    add_server_args(parser)
    args = parser.parse_args(argv)
    unknown = [m for m in args.modes if m not in MODES]
    if unknown:
        parser.error(f"unknown mode(s) {', '.join(unknown)}: the engine has {', '.join(MODES)}")
    return args


def load_world(store: Any, embedder: Embedder, world: World, user: str, batch: int) -> dict[str, Any]:
    """Entities, facts and turns of `world` into the scope of `user`, ids derived as graphmem
    derives them, in UNWIND batches; returns counts and timings."""
    scope = Scope(user_id=user)
    started = time.perf_counter()
    types = {f.source: f.source_type for f in world.facts} | {f.target: f.target_type for f in world.facts}
    names = sorted(types)
    name_vectors = cached_embeddings(embedder, names, "quality-names")
    sentence_vectors = cached_embeddings(embedder, [f.sentence for f in world.facts], "quality-facts")
    embedded = time.perf_counter() - started
    ids = {name: entity_id(scope, normalize_name(name)) for name in names}
    mentions = dict.fromkeys(names, 0)
    for f in world.facts:
        mentions[f.source] += 1
        mentions[f.target] += 1
    entities = [
        {
            "id": ids[name],
            "name": name,
            "normalized": normalize_name(name),
            "type": types[name],
            "embedding": vector.tolist(),
            "created_at": START,
            "mentions": mentions[name],
            "user_id": user,
            "scope_key": scope.key,
        }
        for name, vector in zip(names, name_vectors)
    ]
    # The conversation tells the facts in a seeded random order, one turn each.
    order = random.Random(f"graphmem-quality-turns-{world.seed}").sample(range(len(world.facts)), len(world.facts))
    facts, messages = [], []
    for turn, index in enumerate(order):
        f, vector = world.facts[index], sentence_vectors[index].tolist()
        at = START + timedelta(minutes=10 * turn)
        key = fact_id(scope, ids[f.source], f.relation, ids[f.target], at)
        facts.append(
            {
                "id": key,
                "source_id": ids[f.source],
                "target_id": ids[f.target],
                "relation": f.relation,
                "fact": f.sentence,
                "embedding": vector,
                "valid_from": at,
                "valid_to": None,
                "invalidated_by": None,
                "mentions": 1,
                "user_id": user,
                "scope_key": scope.key,
            }
        )
        external_id = f"quality-turn-{turn}"
        messages.append(
            {
                "id": message_node_id(scope, Message(content=f.sentence, id=external_id)),
                "external_id": external_id,
                "role": "user",
                "speaker": "user",
                "content": f.sentence,
                "timestamp": at,
                "embedding": vector,
                "stems": stem_text(f.sentence),
                "metadata": json.dumps({"bench": "quality", "world_seed": world.seed}),
                "fact_id": key,
                "source_id": ids[f.source],
                "target_id": ids[f.target],
            }
        )
    # entities before the facts between them, facts before the turns that carry them
    for statement, param, rows in (
        ("load_entities", "entities", entities),
        ("load_facts", "facts", facts),
        ("load_messages", "messages", messages),
    ):
        for i in range(0, len(rows), batch):
            run_statement(
                store,
                statement,
                {param: rows[i : i + batch], **scope.params(), "scope_key": scope.key, "stemmer": STEMMER},
            )
    seconds = time.perf_counter() - started
    return {
        "entities": len(entities),
        "facts": len(facts),
        "messages": len(messages),
        "embed_seconds": round(embedded, 1),
        "seconds": round(seconds, 1),
    }


def _same_fact(fact: Any, target: tuple[str, str, str]) -> bool:
    source, relation, obj = target
    return (
        fact.relation == relation
        and normalize_name(fact.source) == normalize_name(source)
        and normalize_name(fact.target) == normalize_name(obj)
    )


def _rank(items: list[Any], found: Any) -> int | None:
    """1-based rank of the first item `found` accepts, or None."""
    return next((i for i, item in enumerate(items, start=1) if found(item)), None)


def ask(memory: Any, timer: TimedEmbedder, world: World, user: str, mode: str, q: Question) -> dict[str, Any]:
    """One search; the ranks of the target fact and of its turn, and the times."""
    sentence = " ".join(world.fact(q.target).sentence.split())
    kwargs = {} if mode == "default" else {"mode": mode}
    timer.seconds = 0.0
    started = time.perf_counter()
    results = memory.search(q.text, user_id=user, limit=LIMIT, **kwargs)
    wall = time.perf_counter() - started
    episodes = list(getattr(results, "episodes", None) or [])
    return {
        "fact_rank": _rank(list(results), lambda h: _same_fact(h.fact, q.target)),
        "episode_rank": _rank(episodes, lambda e: " ".join(_content(e).split()) == sentence),
        "has_episodes": bool(episodes),
        "wall": wall,
        "embed": timer.seconds,
    }


def _content(hit: Any) -> str:
    """The turn's text: an EpisodeHit holds the turn as `.episode`; a bare turn has `.content`."""
    return getattr(hit, "episode", hit).content


def score(ranks: list[int | None]) -> dict[str, float]:
    n = len(ranks)
    return {
        "hit_at_1": round(sum(r == 1 for r in ranks) / n, 3),
        "hit_at_5": round(sum(r is not None and r <= 5 for r in ranks) / n, 3),
        "mrr": round(sum(1 / r for r in ranks if r is not None and r <= LIMIT) / n, 3),
    }


def latency(seconds: list[float]) -> dict[str, float]:
    return {"p50_ms": ms(percentile(seconds, 50)), "p95_ms": ms(percentile(seconds, 95))}


def run_mode(
    memory: Any, timer: TimedEmbedder, world: World, user: str, mode: str, questions: list[Question]
) -> dict[str, Any]:
    for q in questions[:WARMUP]:
        ask(memory, timer, world, user, mode, q)
    answers = [ask(memory, timer, world, user, mode, q) for q in questions]
    primary = "episode_rank" if mode == "episode" else "fact_rank"
    with_episodes = any(a["has_episodes"] for a in answers)  # a mode that never returns turns has no episode score
    by_hop: dict[str, Any] = {}
    for hop in HOPS:
        picked = [a for q, a in zip(questions, answers) if q.hops == hop]
        if not picked:
            continue
        by_hop[str(hop)] = {"n": len(picked), **score([a[primary] for a in picked])}
        if with_episodes:
            by_hop[str(hop)]["episode_hit_at_5"] = score([a["episode_rank"] for a in picked])["hit_at_5"]
    return {
        "hops": by_hop,
        "latency": {
            "wall": latency([a["wall"] for a in answers]),
            "embedding": latency([a["embed"] for a in answers]),
            "engine": latency([a["wall"] - a["embed"] for a in answers]),
        },
        "ranks": [a[primary] for a in answers],
        "episode_ranks": [a["episode_rank"] for a in answers] if with_episodes else None,
    }


def git_commit() -> dict[str, Any]:
    """The commit, and whether the engine's files differ from it (work in progress measured)."""
    root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False).stdout.strip()

    return {
        "commit": git("rev-parse", "HEAD") or None,
        "engine_modified": bool(git("status", "--porcelain", "--", "graphmem", "cypher")),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from graphmem import GraphMemory
    from graphmem.embed.minilm import MiniLMEmbedder
    from graphmem.llm import OfflineLLM

    load_before = list(os.getloadavg())
    settings, store = connect(args)
    log(f"Neo4j at {store.uri}; loading MiniLM")
    embedder = MiniLMEmbedder()
    timer = TimedEmbedder(embedder)
    if args.no_cache:
        settings = settings.model_copy(update={"search_cache_mb": 0})
    memory = GraphMemory(store, llm=OfflineLLM(), embedder=timer, settings=settings)
    leftovers = delete_bench_data(store, USER_PREFIX)
    if leftovers:
        log(f"deleted {leftovers} nodes left by an earlier run")
    modes = [*args.modes, "default"]
    report: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "git": git_commit(),
        "seed": args.seed,
        "sizes": args.sizes,
        "questions_per_hop": args.questions,
        "modes": modes,
        "limit": LIMIT,
        "load_average_before": load_before,
        "environment": environment(store),
        "config": {k: v for k, v in vars(args).items() if k != "password"},
        "notes": [
            "hit: the target fact (source, relation, target) among the hits; in mode episode, the turn "
            "carrying it among results.episodes; MRR over the top 10",
            "latency: wall = the search call with the query embedding; engine = wall minus the embedding",
            "default = GraphMemory.search with no mode argument (the library default)",
            "no_cache: Neo4j ranked every search (search_cache_mb=0)" if args.no_cache else "the scope cache ranked",
        ],
        "results": [],
    }
    try:
        for size in args.sizes:
            world = build_world(size, args.seed)
            questions = make_questions(world, args.questions, args.seed, HOPS)
            user = f"{USER_PREFIX}{size}-seed{args.seed}"
            log(f"size {size}: {len(world.facts)} facts about {len(world.people)} people; loading into {user}")
            load = load_world(store, embedder, world, user, args.batch)
            log(f"loaded {load}")
            row: dict[str, Any] = {
                "size": size,
                "user": user,
                "people": len(world.people),
                "load": load,
                "questions": [{"text": q.text, "hops": q.hops, "path": q.path, "target": q.target} for q in questions],
                "modes": {},
            }
            report["results"].append(row)
            try:
                for mode in modes:
                    try:
                        row["modes"][mode] = result = run_mode(memory, timer, world, user, mode, questions)
                    except Exception as exc:  # a mode under construction fails: the others still count
                        row["modes"][mode] = {"error": f"{type(exc).__name__}: {exc}"}
                        log(f"size {size} {mode}: failed: {row['modes'][mode]['error']}")
                        continue
                    log(
                        f"size {size} {mode:<11} "
                        + "  ".join(
                            f"{h}-hop H@1 {m['hit_at_1']:.2f} H@5 {m['hit_at_5']:.2f}"
                            for h, m in result["hops"].items()
                        )
                        + f"  p50 {result['latency']['wall']['p50_ms']} ms"
                    )
            finally:
                if not args.keep:
                    Queries(store).delete_scope(Scope(user_id=user))
            report["load_average_after"] = list(os.getloadavg())
            write_report(args.out, report)
        print_tables(report)
        log(f"wrote {args.out}")
    finally:
        store.close()
    return 0


def write_report(path: Path, report: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")


def print_tables(report: dict[str, Any]) -> None:
    """Two markdown tables: quality per hop count, then latency."""
    hop_cols = " | ".join(f"{h}-hop H@1 / H@5 / MRR" for h in HOPS)
    print(f"\n| facts | mode | {hop_cols} | episode H@5 (1/2/3 hops) |")
    print("|---:|---|" + "---|" * len(HOPS) + "---|")
    for row in report["results"]:
        for mode, result in row["modes"].items():
            if "error" in result:
                print(f"| {row['load']['facts']:,} | {mode} | failed: {result['error'][:80]} |")
                continue
            hops = result["hops"]
            cells = [
                f"{hops[str(h)]['hit_at_1']:.2f} / {hops[str(h)]['hit_at_5']:.2f} / {hops[str(h)]['mrr']:.2f}"
                if str(h) in hops
                else "-"
                for h in HOPS
            ]
            episodes = (
                "/".join(f"{hops[str(h)]['episode_hit_at_5']:.2f}" for h in HOPS)
                if all("episode_hit_at_5" in hops.get(str(h), {}) for h in HOPS)
                else "-"
            )
            print(f"| {row['load']['facts']:,} | {mode} | {' | '.join(cells)} | {episodes} |")
    print("\n| facts | mode | p50 ms | p95 ms | query embedding p50 | engine p50 | engine p95 |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for row in report["results"]:
        for mode, result in row["modes"].items():
            if "error" in result:
                continue
            lat = result["latency"]
            print(
                f"| {row['load']['facts']:,} | {mode} | {lat['wall']['p50_ms']} | {lat['wall']['p95_ms']} | "
                f"{lat['embedding']['p50_ms']} | {lat['engine']['p50_ms']} | {lat['engine']['p95_ms']} |"
            )
    n = report["questions_per_hop"]
    print(
        f"\nup to {n} questions per hop count; hit = target fact in the top k (mode episode: the turn "
        f"carrying it); times = the search call, query embedding included; engine = without it; "
        f"load average {report['load_average_before']} before, {report.get('load_average_after')} after"
    )


if __name__ == "__main__":
    sys.exit(main())
