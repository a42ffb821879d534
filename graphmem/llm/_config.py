"""The OpenAI-compatible LLM's settings checked without importing the openai client, so a
bad setting fails when the memory opens, not at its first add."""

from __future__ import annotations

from .._errors import ConfigError
from .._settings import Settings


def check_openai_settings(settings: Settings) -> None:
    if not settings.openai_api_key and not settings.openai_base_url:
        raise ConfigError(
            "the openai LLM provider needs OPENAI_API_KEY (for OpenAI) or OPENAI_BASE_URL (for a local "
            "OpenAI-compatible server such as Ollama); set one, or set GRAPHMEM_LLM_PROVIDER=offline"
        )
    if not settings.llm_model.strip():
        raise ConfigError("no LLM model name: set GRAPHMEM_LLM_MODEL (e.g. gpt-4o-mini)")
