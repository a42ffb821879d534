"""A deterministic bag-of-words embedder: a test double and a model-free stand-in for benchmarks.

Texts sharing words get close vectors; paraphrases without shared words do not, which is
what tests of the real model's value can rely on.
"""

from __future__ import annotations

import hashlib
import math
import re

from .base import Embedder


class HashingEmbedder(Embedder):
    def __init__(self, dim: int = 384):
        self.dim = dim
        self.model_name = f"hashing-{dim}"

    def _vector(self, text: str) -> list[float]:
        vec = [0.0] * self.dim
        tokens = re.findall(r"\w+", text.casefold()) or [text]
        for token in tokens:
            digest = hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=8).digest()
            index = int.from_bytes(digest[:4], "little") % self.dim
            vec[index] += 1.0 if digest[4] & 1 else -1.0
        norm = math.sqrt(sum(v * v for v in vec)) or 1.0
        return [v / norm for v in vec]

    def embed(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]
