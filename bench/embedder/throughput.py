"""Sentences per second of the default embedder (ONNX Runtime) and of the torch path
(sentence-transformers, its frozen TorchScript graph), side by side in one process, at
batch sizes 1, 32 and 256, rounds interleaved so a busy moment hits both alike. The texts are
what graphmem embeds: turns and fact sentences (the sample transcript, bench/embedder/strings.py's
names, facts, questions and mixed lines), no text past the truncation.

    uv sync --extra sentence-transformers      # the torch path (several GB), then
    .venv/bin/python -m bench.embedder.throughput [--seconds 3] [--rounds 3]

Without the extra it measures the default embedder alone.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from importlib import resources

from bench.embedder.strings import strings

BATCHES = (1, 32, 256)


def texts() -> list[str]:
    sample = resources.files("graphmem") / "data" / "sample_transcript.jsonl"
    turns = [json.loads(line)["content"] for line in sample.read_text().splitlines() if line.strip()]
    lines = [s for s in strings() if len(s.strip()) > 3 and len(s.split()) < 60]
    return turns + lines


def rate(embed: Callable[[list[str]], object], pool: list[str], batch: int, seconds: float) -> float:
    done, started, offset = 0, time.perf_counter(), 0
    while time.perf_counter() - started < seconds:
        chunk = [pool[(offset + i) % len(pool)] for i in range(batch)]
        embed(chunk)
        done += batch
        offset += batch
    return done / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the median is reported")
    args = parser.parse_args(argv)
    from graphmem.embed.minilm import MiniLMEmbedder

    embedders: dict[str, Callable[[list[str]], object]] = {"onnxruntime (default)": MiniLMEmbedder().embed}
    try:
        from graphmem.embed.sentence_transformers import SentenceTransformerEmbedder

        embedders["torch (sentence-transformers extra)"] = SentenceTransformerEmbedder().embed
    except ImportError:
        print("the sentence-transformers extra is not installed: the default embedder only")
    pool = texts()
    for embed in embedders.values():
        embed(pool[:64])  # warm-up
    load = os.getloadavg()[0]
    found: dict[tuple[str, int], list[float]] = {}
    for _ in range(args.rounds):
        for batch in BATCHES:
            for name, embed in embedders.items():
                found.setdefault((name, batch), []).append(rate(embed, pool, batch, args.seconds))
    print(f"{len(pool)} texts; {os.cpu_count()} CPUs; load average {load:.2f} before, {os.getloadavg()[0]:.2f} after")
    print(f"{'embedder':38}" + "".join(f"{'batch ' + str(b):>12}" for b in BATCHES) + "   (sentences/s, median)")
    for name in embedders:
        print(f"{name:38}" + "".join(f"{statistics.median(found[(name, b)]):12.0f}" for b in BATCHES))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
