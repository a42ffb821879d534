"""Counters shared by both harnesses: one `Meter` per system, read and reset around each operation."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any


def estimate_tokens(payload: Any) -> int:
    """The same rough estimate for both systems: len(JSON text) / 4."""
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False, default=str)
    return len(text) // 4


@dataclass
class Counts:
    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    llm_s: float = 0.0
    llm_cpu_s: float = 0.0  # this process's CPU time inside the stand-in
    neo4j_queries: int = 0
    neo4j_s: float = 0.0
    embed_calls: int = 0  # model invocations (a batch counts once)
    embed_texts: int = 0
    embed_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Meter:
    """Accumulates LLM, Neo4j and embedding figures until `take()` hands them over."""

    def __init__(self) -> None:
        self.now = Counts()

    def take(self) -> Counts:
        taken, self.now = self.now, Counts()
        return taken

    def llm(self, prompt_payload: Any, completion_payload: Any, seconds: float, cpu_seconds: float = 0.0) -> None:
        self.now.llm_calls += 1
        self.now.llm_cpu_s += cpu_seconds
        self.now.prompt_tokens += estimate_tokens(prompt_payload)
        self.now.completion_tokens += estimate_tokens(completion_payload)
        self.now.llm_s += seconds

    @contextmanager
    def neo4j(self) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.now.neo4j_queries += 1
            self.now.neo4j_s += time.perf_counter() - started

    @contextmanager
    def embed(self, texts: int) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.now.embed_calls += 1
            self.now.embed_texts += texts
            self.now.embed_s += time.perf_counter() - started
