"""Extraction and resolution backends: OpenAI-compatible model, offline rules, or a script."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._config import check_openai_settings
from ._lazy import LazyLLM
from .base import LLM
from .offline import OfflineLLM
from .scripted import RelationRequest, ScriptedLLM

if TYPE_CHECKING:
    from .._settings import Settings
    from .openai import OpenAILLM

__all__ = ["LLM", "LazyLLM", "OfflineLLM", "OpenAILLM", "RelationRequest", "ScriptedLLM", "make_llm"]


def make_llm(settings: Settings) -> LLM:
    """The backend the settings ask for: OpenAI-compatible when a key or base URL is set
    (or GRAPHMEM_LLM_PROVIDER=openai), else the offline rules. The OpenAI-compatible client
    is built on the first call; its settings are checked now, so a bad one fails at once."""
    if settings.resolved_llm_provider == "openai":

        def build() -> LLM:
            from .openai import OpenAILLM

            return OpenAILLM.from_settings(settings)

        check_openai_settings(settings)
        return LazyLLM(build, name="openai")
    return OfflineLLM()


def __getattr__(name: str) -> Any:
    # the openai client takes ~1 s to import: only a process that uses it pays for it
    if name == "OpenAILLM":
        from .openai import OpenAILLM

        return OpenAILLM
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
