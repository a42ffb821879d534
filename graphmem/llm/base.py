"""The interface every extractor/resolver backend implements.

Each method is one pipeline task. A backend that calls a model records one `LLMCall`
per model call into the `usage` it is given; rule-based backends record nothing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

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


class LLM(ABC):
    """Extraction and resolution backend (OpenAI-compatible model, offline rules, or a script)."""

    #: short name shown in CLI output and usage records
    name: str = "llm"
    #: True for backends that are not a language model (low-recall fallbacks)
    is_fallback: bool = False

    @abstractmethod
    def extract_entities(self, source: ExtractionInput, usage: Usage) -> EntityExtraction:
        """Stage 1: entities with a type label; I/me/my resolved to the turn's speaker."""

    @abstractmethod
    def extract_relations(self, source: ExtractionInput, entities: list[Entity], usage: Usage) -> RelationExtraction:
        """Stage 2: labelled triplets over `entities`, each with a short fact sentence."""

    @abstractmethod
    def extract_graph(self, source: ExtractionInput, usage: Usage) -> GraphExtraction:
        """Single pass: entities and triplets in one call."""

    @abstractmethod
    def resolve(self, request: ResolutionRequest, usage: Usage) -> ResolutionResult:
        """One batched call deciding add/update/invalidate/noop for every item of an add."""
