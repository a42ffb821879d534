"""Embeddings of short phrases that repeat (relation names, question words), kept in a
bounded LRU cache shared by the stages that need them, so each is embedded once per
process. Thread-safe: searches run their lists on worker threads."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

from .base import Embedder


class PhraseVectors:
    def __init__(self, embedder: Embedder, *, size: int = 20_000):
        self.embedder = embedder
        self.size = size
        self._vectors: OrderedDict[str, list[float]] = OrderedDict()
        self._lock = threading.Lock()

    def missing(self, phrases: Sequence[str]) -> list[str]:
        """The phrases not cached yet, deduplicated, in order."""
        with self._lock:
            return [p for p in dict.fromkeys(phrases) if p not in self._vectors]

    def put(self, phrases: Sequence[str], vectors: Sequence[list[float]]) -> None:
        """Caches vectors embedded elsewhere (e.g. in an add's one batched call)."""
        with self._lock:
            for phrase, vector in zip(phrases, vectors, strict=True):
                self._vectors[phrase] = vector
                self._vectors.move_to_end(phrase)
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)

    def get(self, phrases: Sequence[str]) -> list[list[float]]:
        """The vectors of the phrases, embedding the missing ones in one call."""
        missing = self.missing(phrases)
        if missing:
            self.put(missing, self.embedder.embed(list(missing)))
        with self._lock:
            for phrase in phrases:
                self._vectors.move_to_end(phrase)
            return [self._vectors[p] for p in phrases]
