"""What the benchmark scripts share: which Neo4j to use, percentiles, result files, clean-up."""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from graphmem import Settings, load_settings  # noqa: E402
from graphmem._settings import default_home  # noqa: E402
from graphmem.store.transport import Store  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
#: every user id a benchmark writes starts with this; clean-up deletes exactly these
PREFIX = "bench-"


def add_server_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Neo4j (default: the managed test server the pytest fixture uses, Bolt 7688)")
    group.add_argument(
        "--env",
        action="store_true",
        help="use the settings from the environment / graphmem.toml, like the graphmem commands",
    )
    group.add_argument("--neo4j-uri", help="a running server, e.g. bolt://127.0.0.1:7687")
    group.add_argument("--user", default=None, help="Neo4j user (with --neo4j-uri)")
    group.add_argument("--password", default=None, help="Neo4j password (with --neo4j-uri)")
    group.add_argument(
        "--home",
        type=Path,
        default=None,
        help="home of a managed server to start or reuse (default ~/.cache/graphmem/test-server)",
    )
    group.add_argument("--bolt-port", type=int, default=7688)
    group.add_argument("--http-port", type=int, default=7475)


def settings_from(args: argparse.Namespace) -> Settings:
    if args.env:
        return load_settings()
    if args.neo4j_uri:
        extra = {"neo4j_user": args.user} if args.user else {}
        return load_settings(neo4j_uri=args.neo4j_uri, neo4j_password=args.password, **extra)
    from graphmem import _managed_neo4j

    home = args.home or Path(os.environ.get("GRAPHMEM_TEST_HOME", default_home() / "test-server"))
    settings = load_settings(home=home, bolt_port=args.bolt_port, http_port=args.http_port, neo4j_uri=None)
    _managed_neo4j.ensure_running(settings)
    return settings


def connect(args: argparse.Namespace) -> tuple[Settings, Store]:
    settings = settings_from(args)
    return settings, Store.connect(settings)


STATEMENTS = Path(__file__).resolve().parent / "cypher"  # the benchmarks' own bulk loads and deletes


def statement(name: str) -> str:
    return (STATEMENTS / f"{name}.cypher").read_text(encoding="utf-8")


def run_statement(store: Store, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """bench/cypher/<name>.cypher, in a write transaction."""
    return store.run_text(statement(name), params, write=True)


def delete_bench_data(store: Store, prefix: str = PREFIX) -> int:
    """Batched delete of every entity and message under the benchmark prefix."""
    if not prefix.startswith(PREFIX):
        raise ValueError(f"refusing to delete users outside the benchmark prefix {PREFIX!r}")
    return int(store.run_text_autocommit(statement("delete"), {"prefix": prefix})[0]["deleted"])


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def environment(store: Store) -> dict[str, Any]:
    try:
        server = store.server_info()
        memory = {row["name"]: row["value"] for row in store.run_text(statement("server_memory"))}
    except Exception as exc:  # informative only
        server, memory = {"error": str(exc)}, {}
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "neo4j": server,
        "neo4j_memory": memory,
        "uri": store.uri,
        "argv": sys.argv,
        "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def write_json(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / name
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
