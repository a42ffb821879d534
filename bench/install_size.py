"""The runtime install as a user gets it, measured: the built wheel and the locked runtime
dependencies (no dev group, no extras) in a fresh virtual environment; the size on disk of
each distribution (its RECORD's files) and of the whole environment.

    .venv/bin/python -m bench.install_size [--extra sentence-transformers] [--keep DIR]
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UV = ROOT / ".tools" / "bin" / "uv"


def du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extra", action="append", default=[], help="an optional extra to include")
    parser.add_argument("--keep", type=Path, help="build the environment here and keep it")
    args = parser.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="graphmem-size-"))
    work.mkdir(parents=True, exist_ok=True)
    uv = str(UV if UV.is_file() else shutil.which("uv"))
    subprocess.run([uv, "build", "--quiet", "--wheel", "--out-dir", str(work / "dist"), str(ROOT)], check=True)
    extras = [flag for extra in args.extra for flag in ("--extra", extra)]
    pins = work / "requirements.txt"
    subprocess.run(
        [uv, "export", "--frozen", "--no-dev", *extras, "--no-hashes", "--no-emit-project", "--quiet", "-o", str(pins)],
        check=True,
        cwd=ROOT,
    )
    venv = work / "venv"
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    empty = du(venv)
    wheel = next((work / "dist").glob("graphmem-*.whl"))
    python = venv / "bin" / "python"
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--python", str(python), "--no-deps", "-r", str(pins), str(wheel)], check=True
    )
    site = next((venv / "lib").glob("python*/site-packages"))
    sizes = []
    for dist in md.distributions(path=[str(site)]):
        files = [site / str(f) for f in dist.files or []]
        sizes.append((sum(f.stat().st_size for f in files if f.is_file()), dist.metadata["Name"], dist.version))
    total = du(venv)
    print(f"{'distribution':32} {'version':>12} {'MB':>8}")
    for size, name, version in sorted(sizes, reverse=True):
        print(f"{name:32} {version:>12} {size / 1e6:8.1f}")
    print(
        f"\n{len(sizes)} distributions; environment {total / 1e6:.0f} MB ({(total - empty) / 1e6:.0f} MB installed into an empty venv of {empty / 1e6:.0f} MB)"
    )
    if not args.keep:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
