"""An LLM client built on its first call: importing and configuring the openai client takes
about a second, which the commands that ask no model (facts, history, delete, stats, export)
should not pay."""

from __future__ import annotations

from collections.abc import Callable

from .._models import (
    Entity,
    EntityExtraction,
    ExtractionInput,
    GraphExtraction,
    RelationExtraction,
    ResolutionRequest,
    ResolutionResult,
    Usage,
)
from .._once import Once
from .base import LLM


class LazyLLM(LLM):
    def __init__(self, build: Callable[[], LLM], *, name: str, is_fallback: bool = False):
        self.name = name
        self.is_fallback = is_fallback
        self._llm = Once(build)

    @property
    def loaded(self) -> bool:
        return self._llm.built

    def load(self) -> LLM:
        """The client itself, built now if it was not."""
        return self._llm.get()

    def extract_entities(self, source: ExtractionInput, usage: Usage) -> EntityExtraction:
        return self.load().extract_entities(source, usage)

    def extract_relations(self, source: ExtractionInput, entities: list[Entity], usage: Usage) -> RelationExtraction:
        return self.load().extract_relations(source, entities, usage)

    def extract_graph(self, source: ExtractionInput, usage: Usage) -> GraphExtraction:
        return self.load().extract_graph(source, usage)

    def resolve(self, request: ResolutionRequest, usage: Usage) -> ResolutionResult:
        return self.load().resolve(request, usage)

    def __repr__(self) -> str:
        return f"LazyLLM({self.name!r}, loaded={self.loaded})"
