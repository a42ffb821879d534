"""Embedders: the real MiniLM model and a deterministic hashing double."""

from __future__ import annotations

from .._settings import Settings
from .base import Embedder
from .hashing import HashingEmbedder


def make_embedder(settings: Settings) -> Embedder:
    if settings.embedder == "hashing":
        return HashingEmbedder(settings.embedding_dim)
    from .sentence_transformers import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


__all__ = ["Embedder", "HashingEmbedder", "make_embedder"]
