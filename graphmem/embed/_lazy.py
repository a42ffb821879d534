"""An embedder built on its first call. Its name and dimension are known from the settings
before that, so opening a memory (the schema check) and the commands that embed nothing
never import a model runtime or open a connection to an endpoint."""

from __future__ import annotations

from collections.abc import Callable

from .._errors import ConfigError
from .._once import Once
from .base import Embedder


class LazyEmbedder(Embedder):
    def __init__(self, build: Callable[[], Embedder], *, dim: int, model_name: str):
        self.dim = dim
        self.model_name = model_name
        self._build = build
        self._embedder = Once(self._checked)

    @property
    def loaded(self) -> bool:
        return self._embedder.built

    def load(self) -> Embedder:
        """The embedder itself, built now if it was not."""
        return self._embedder.get()

    def _checked(self) -> Embedder:
        embedder = self._build()
        if embedder.dim != self.dim:
            raise ConfigError(
                f"the embedder {embedder.model_name} makes {embedder.dim}-dimensional vectors, not the "
                f"{self.dim} configured: set GRAPHMEM_EMBEDDING_DIM={embedder.dim}"
            )
        return embedder

    def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return self.load().embed(texts)

    def __repr__(self) -> str:
        return f"LazyEmbedder({self.model_name!r}, dim={self.dim}, loaded={self.loaded})"
