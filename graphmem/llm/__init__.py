"""Extraction and resolution backends: OpenAI-compatible model, offline rules, or a script."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import LLM
from .offline import OfflineLLM
from .openai import OpenAILLM
from .scripted import RelationRequest, ScriptedLLM

if TYPE_CHECKING:
    from .._settings import Settings

__all__ = ["LLM", "OfflineLLM", "OpenAILLM", "RelationRequest", "ScriptedLLM", "make_llm"]


def make_llm(settings: Settings) -> LLM:
    """The backend the settings ask for: OpenAI-compatible when a key or base URL is set
    (or GRAPHMEM_LLM_PROVIDER=openai), else the offline rules."""
    if settings.resolved_llm_provider == "openai":
        return OpenAILLM.from_settings(settings)
    return OfflineLLM()
