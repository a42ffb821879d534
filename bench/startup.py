"""What a user waits for around the engine: wall time and peak memory of one-shot CLI
commands, and `graphmem mcp` over stdio from spawn to `initialize` answered, then its first
`search_memory`. Every figure is the median of --repeat runs, with and without `.pyc` files
(PYTHONDONTWRITEBYTECODE=1 recompiles every import, as on CI machines).

    .venv/bin/python -m bench.startup --user demo-maya [--graphmem OTHER/.venv/bin/graphmem ...]

Several --graphmem installs (say, a checkout before a change) are measured in one run,
interleaved, against the same database (the environment's NEO4J_* or the managed server).
Run `./run demo` first: its user demo-maya is the default scope searched.

The runs without `.pyc` files come first, after every `__pycache__` of the installs (their
virtual environment and the graphmem package they import) is deleted: PYTHONDONTWRITEBYTECODE
only stops writing them, and a file written by an earlier run would be read.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUERY = "Which foods should Maya avoid?"


def run_once(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one command, which must succeed."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(
            f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.read().decode() if proc.stderr else ''}"
        )
    return seconds, usage.ru_maxrss / 1024


async def mcp_once(graphmem: str, user: str, env: dict[str, str]) -> tuple[float, float]:
    """(seconds from spawn to `initialize` answered, seconds of the first search_memory)."""
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(command=graphmem, args=["mcp", "--user", user], env=env)
    started = time.perf_counter()
    async with (
        stdio_client(params, errlog=open(os.devnull, "w")) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        initialized = time.perf_counter()
        result = await session.call_tool("search_memory", {"query": QUERY})
        searched = time.perf_counter()
        if result.is_error:
            raise SystemExit(f"search_memory failed: {result.content}")
    return initialized - started, searched - initialized


def clear_bytecode(graphmem: str) -> int:
    """Deletes the install's `__pycache__` folders (its venv's, its graphmem package's)."""
    venv = Path(graphmem).resolve().parent.parent
    package = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import graphmem, os; print(os.path.dirname(graphmem.__file__))"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    ).stdout.strip()
    folders = [p for root in (venv, Path(package)) for p in root.rglob("__pycache__")]
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
    return len(folders)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graphmem", action="append", help="graphmem executables (default: this venv's)")
    parser.add_argument("--user", default="demo-maya")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, help="write the results as JSON")
    args = parser.parse_args(argv)
    installs = args.graphmem or [str(Path(sys.executable).parent / "graphmem")]
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    base.setdefault("GRAPHMEM_LLM_PROVIDER", "offline")
    commands = {
        "facts --json": ["facts", "--user", args.user, "--json"],
        "search": ["search", QUERY, "--user", args.user],
        "delete --yes (empty scope)": ["delete", "--user", "bench-startup-nobody", "--yes"],
        "--help": ["--help"],
    }
    results: list[dict[str, object]] = []
    load_before = os.getloadavg()
    for pyc in (False, True):
        env = dict(base) if pyc else {**base, "PYTHONDONTWRITEBYTECODE": "1"}
        label = "pyc written" if pyc else "PYTHONDONTWRITEBYTECODE=1"
        if not pyc:
            for graphmem in installs:
                print(f"{graphmem}: {clear_bytecode(graphmem)} __pycache__ folders deleted", flush=True)
        else:  # the .pyc files a user's second run finds
            for graphmem in installs:
                run_once([graphmem, *commands["search"]], env)
        for name, tail in commands.items():
            runs: dict[str, list[tuple[float, float]]] = {g: [] for g in installs}
            for _ in range(args.repeat):
                for graphmem in installs:  # interleaved: a busy moment hits every install alike
                    runs[graphmem].append(run_once([graphmem, *tail], env))
            for graphmem, samples in runs.items():
                row = {
                    "install": graphmem,
                    "bytecode": label,
                    "what": f"graphmem {name}",
                    "seconds": statistics.median(s for s, _ in samples),
                    "rss_mb": statistics.median(m for _, m in samples),
                }
                results.append(row)
                print(
                    f"{label:26} {graphmem:45} {row['what']:34} {row['seconds']:6.2f} s {row['rss_mb']:7.0f} MB",
                    flush=True,
                )
        mcp_runs: dict[str, list[tuple[float, float]]] = {g: [] for g in installs}
        for _ in range(args.repeat):
            for graphmem in installs:
                mcp_runs[graphmem].append(asyncio.run(mcp_once(graphmem, args.user, env)))
        for graphmem, samples in mcp_runs.items():
            for what, index in (("mcp: spawn to initialize", 0), ("mcp: first search_memory", 1)):
                seconds = statistics.median(s[index] for s in samples)
                results.append({"install": graphmem, "bytecode": label, "what": what, "seconds": seconds})
                print(f"{label:26} {graphmem:45} {what:34} {seconds:6.2f} s", flush=True)
    summary = {
        "generated_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        "load_average_before_after": [list(load_before), list(os.getloadavg())],
        "cpus": os.cpu_count(),
        "repeat": args.repeat,
        "results": results,
    }
    print(f"load average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f}")
    if args.out:
        args.out.write_text(json.dumps(summary, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
