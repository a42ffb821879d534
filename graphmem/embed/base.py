"""The embedder interface: batched text -> unit-length vectors of a fixed dimension."""

from __future__ import annotations

from abc import ABC, abstractmethod


class Embedder(ABC):
    #: vector length; the Neo4j vector indexes are created with it
    dim: int
    #: identifies the model in the schema record, so a switch of model is caught
    model_name: str

    @abstractmethod
    def embed(self, texts: list[str]) -> list[list[float]]:
        """Embed all texts in one batch (one model call), returning cosine-normalised vectors."""

    def embed_one(self, text: str) -> list[float]:
        return self.embed([text])[0]
