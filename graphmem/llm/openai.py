"""Extraction and resolution over any OpenAI-compatible chat-completions endpoint.

Works with OpenAI, Azure (via base_url), Ollama, vLLM, llama.cpp and similar servers.
`OpenAITransport` is the endpoint: answers constrained with `json_schema` structured output
where the server supports it, retries, error texts. `OpenAILLM` is the structured client
(`structured.StructuredLLM`: validation, one re-ask, disk cache, usage) wired to it.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import openai

from .._errors import ConfigError, LLMError
from ._config import check_openai_settings
from ._endpoint import Names, RetryPolicy, connect, error_text, retry_after
from ._flow import AdaptiveFlow
from .structured import Completion, StructuredLLM, answer_schema, strict_schema

if TYPE_CHECKING:
    from .._settings import Settings

# answer_schema and strict_schema lived here first; callers still import them from here
__all__ = ["OpenAILLM", "OpenAITransport", "answer_schema", "strict_schema"]

log = logging.getLogger(__name__)

_NAMES = Names(
    model="GRAPHMEM_LLM_MODEL",
    base_url="OPENAI_BASE_URL",
    api_key="OPENAI_API_KEY",
    timeout="GRAPHMEM_LLM_TIMEOUT",
    bad_request="check that GRAPHMEM_LLM_MODEL supports JSON output and that OPENAI_BASE_URL points to a "
    "chat-completions API",
    slow_hint=" or use a faster model",
)


class OpenAITransport:
    """`structured.Transport` over a chat-completions endpoint.

    `backoff` is the first retry wait in seconds (doubling up to `backoff_max`, longer when
    the endpoint's Retry-After says so); tests set it tiny. The openai client's own retries
    are disabled so tenacity is the only retry layer. Calls from all threads share one
    AdaptiveFlow: a 429 slows every caller down (at most `max_in_flight` calls at once).
    """

    def __init__(
        self,
        model: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 4,
        client: openai.OpenAI | None = None,
        backoff: float = 1.0,
        backoff_max: float = 30.0,
        max_in_flight: int = 64,
        rate_limit_patience: float = 120.0,
    ) -> None:
        if not model or not model.strip():
            raise ConfigError("no LLM model name: set GRAPHMEM_LLM_MODEL (e.g. gpt-4o-mini)")
        if max_retries < 0:
            raise ConfigError(f"max_retries must be >= 0 (got {max_retries}): set GRAPHMEM_LLM_MAX_RETRIES")
        self.model = model
        self.timeout = timeout
        self._client, self._secret = connect(client, api_key, base_url, timeout)
        self.retry = RetryPolicy(max_retries, rate_limit_patience, backoff, backoff_max)
        self.flow = AdaptiveFlow(max_in_flight, max_pause=backoff_max)
        # Flipped off after a server rejects json_schema but accepts json_object.
        self.json_schema = True

    @property
    def endpoint(self) -> str:
        return str(self._client.base_url)

    def complete(
        self, operation: str, messages: list[dict[str, str]], schema_name: str, schema: dict[str, Any]
    ) -> Completion:
        """One model answer (with retries)."""
        try:
            if self.json_schema:
                try:
                    response = self._create(operation, messages, _json_schema_format(schema_name, schema))
                except openai.BadRequestError as rejected:
                    # Many local servers reject json_schema; fall back to plain JSON mode with the
                    # schema spelled out in the prompt, and remember if that works.
                    try:
                        response = self._create(operation, _with_schema(messages, schema), {"type": "json_object"})
                    except openai.BadRequestError:
                        raise self._error(operation, rejected) from None
                    self.json_schema = False
                    log.info("%s rejected json_schema output; using json_object mode", self.endpoint)
            else:
                response = self._create(operation, _with_schema(messages, schema), {"type": "json_object"})
        except openai.BadRequestError as exc:
            raise self._error(operation, exc) from None

        tokens = response.usage
        choice = response.choices[0].message if response.choices else None
        return Completion(
            text=(choice.content or "") if choice else "",
            prompt_tokens=tokens.prompt_tokens if tokens else 0,
            completion_tokens=tokens.completion_tokens if tokens else 0,
        )

    def _create(self, operation: str, messages: list[dict[str, str]], response_format: dict[str, Any]) -> Any:
        """chat.completions.create with tenacity retries; 400s are returned to the caller as is."""
        retrying = self.retry.retrying()
        try:
            return retrying(
                self._attempt,
                model=self.model,
                messages=messages,
                response_format=response_format,
            )
        except openai.BadRequestError:
            raise
        except openai.OpenAIError as exc:
            raise self._error(operation, exc) from None

    def _attempt(self, **request: Any) -> Any:
        """One request, in a slot of the shared flow; a 429 narrows the flow for every caller."""
        with self.flow.slot() as slot:
            try:
                return self._client.chat.completions.create(**request)
            except openai.RateLimitError as exc:
                if exc.code != "insufficient_quota":
                    slot.refused(retry_after(exc))
                raise

    def _error(self, operation: str, exc: openai.OpenAIError) -> LLMError:
        text = error_text(exc, _NAMES, self.retry, timeout=self.timeout, secret=self._secret)
        return LLMError(f"{operation}: model {self.model!r} at {self.endpoint} {text}")


class OpenAILLM(StructuredLLM):
    """`LLM` backed by a chat-completions endpoint: `StructuredLLM` over an `OpenAITransport`.

    The arguments are the transport's (see `OpenAITransport`), plus `cache_dir` for answers.
    """

    name = "openai"
    transport: OpenAITransport

    def __init__(
        self,
        model: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 4,
        cache_dir: str | Path | None = None,
        client: openai.OpenAI | None = None,
        backoff: float = 1.0,
        backoff_max: float = 30.0,
        max_in_flight: int = 64,
        rate_limit_patience: float = 120.0,
    ) -> None:
        transport = OpenAITransport(
            model,
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            client=client,
            backoff=backoff,
            backoff_max=backoff_max,
            max_in_flight=max_in_flight,
            rate_limit_patience=rate_limit_patience,
        )
        super().__init__(transport, cache_dir=cache_dir)

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAILLM:
        check_openai_settings(settings)
        return cls(
            settings.llm_model,
            api_key=settings.openai_api_key,
            base_url=settings.openai_base_url,
            timeout=settings.llm_timeout,
            max_retries=settings.llm_max_retries,
            rate_limit_patience=settings.llm_rate_limit_patience,
            cache_dir=settings.llm_cache_dir,
        )

    # The transport's settings and state, where callers found them before the split.

    @property
    def base_url(self) -> str:
        return self.transport.endpoint

    @property
    def timeout(self) -> float:
        return self.transport.timeout

    @property
    def max_retries(self) -> int:
        return self.transport.retry.max_retries

    @property
    def retry(self) -> RetryPolicy:
        return self.transport.retry

    @property
    def flow(self) -> AdaptiveFlow:
        return self.transport.flow

    @property
    def _json_schema(self) -> bool:
        return self.transport.json_schema

    @_json_schema.setter
    def _json_schema(self, value: bool) -> None:
        self.transport.json_schema = value

    def __repr__(self) -> str:  # never shows the key
        return f"OpenAILLM(model={self.model!r}, base_url={self.base_url!r})"


def _json_schema_format(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}


def _with_schema(messages: list[dict[str, str]], schema: dict[str, Any]) -> list[dict[str, str]]:
    """json_object mode cannot carry a schema, so the system prompt states it."""
    note = "\n\nReply with one JSON object only, matching this JSON schema:\n" + json.dumps(schema)
    first, *rest = messages
    return [{**first, "content": first["content"] + note}, *rest]
