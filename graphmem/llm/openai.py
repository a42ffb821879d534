"""Extraction and resolution over any OpenAI-compatible chat-completions endpoint.

Works with OpenAI, Azure (via base_url), Ollama, vLLM, llama.cpp and similar servers.
Answers are constrained with `json_schema` structured output where the server supports it,
validated with pydantic, re-asked once when invalid, and optionally cached on disk.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import openai
from pydantic import BaseModel, ValidationError

from .._errors import ConfigError, LLMError
from .._models import (
    Entity,
    EntityExtraction,
    ExtractionInput,
    GraphExtraction,
    LLMCall,
    RelationExtraction,
    ResolutionRequest,
    ResolutionResult,
    Usage,
)
from ..ontology.model import Ontology
from . import _prompts
from ._config import check_openai_settings
from ._endpoint import Names, RetryPolicy, connect, error_text, retry_after, short
from ._flow import AdaptiveFlow
from .base import LLM

if TYPE_CHECKING:
    from .._settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T", bound=BaseModel)

_NAMES = Names(
    model="GRAPHMEM_LLM_MODEL",
    base_url="OPENAI_BASE_URL",
    api_key="OPENAI_API_KEY",
    timeout="GRAPHMEM_LLM_TIMEOUT",
    bad_request="check that GRAPHMEM_LLM_MODEL supports JSON output and that OPENAI_BASE_URL points to a "
    "chat-completions API",
    slow_hint=" or use a faster model",
)

# Keywords strict structured output rejects. Pydantic validates them after parsing anyway.
_UNSUPPORTED_KEYWORDS = {
    "default",
    "minLength",
    "maxLength",
    "pattern",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
}
_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


def strict_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A pydantic JSON schema rewritten for `strict: true`.

    Strict mode wants every property listed in `required`, `additionalProperties: false`
    on every object, and no validation keywords it does not know. Titles (the field names
    again) and the models' docstrings are left out: they are for us, and every request
    pays for them in prompt tokens. Descriptions of fields stay: they are instructions.
    """

    def fix(node: Any) -> Any:
        if isinstance(node, list):
            return [fix(v) for v in node]
        if not isinstance(node, dict):
            return node
        is_object = "properties" in node
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in ("properties", "$defs"):  # maps of names: a field may be called "default"
                out[key] = {name: fix(sub) for name, sub in value.items()}
            elif key == "title" or (key == "description" and is_object):
                continue
            elif key not in _UNSUPPORTED_KEYWORDS:
                out[key] = fix(value)
        if "properties" in out:
            out["required"] = list(out["properties"])
            out["additionalProperties"] = False
        return out

    return cast("dict[str, Any]", fix(schema))


def answer_schema(model: type[BaseModel], ontology: Ontology | None = None) -> dict[str, Any]:
    """The JSON schema an answer of `model` is asked in (strict; fitted to the ontology)."""
    return _prompts.constrain_schema(strict_schema(model.model_json_schema()), ontology)


class OpenAILLM(LLM):
    """`LLM` backed by a chat-completions endpoint.

    `backoff` is the first retry wait in seconds (doubling up to `backoff_max`, longer when
    the endpoint's Retry-After says so); tests set it tiny. The openai client's own retries
    are disabled so tenacity is the only retry layer. Calls from all threads share one
    AdaptiveFlow: a 429 slows every caller down (at most `max_in_flight` calls at once).
    """

    name = "openai"

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
        if not model or not model.strip():
            raise ConfigError("no LLM model name: set GRAPHMEM_LLM_MODEL (e.g. gpt-4o-mini)")
        if max_retries < 0:
            raise ConfigError(f"max_retries must be >= 0 (got {max_retries}): set GRAPHMEM_LLM_MAX_RETRIES")
        self.model = model
        self.timeout = timeout
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir else None
        self._client, self._secret = connect(client, api_key, base_url, timeout)
        self.retry = RetryPolicy(max_retries, rate_limit_patience, backoff, backoff_max)
        self.flow = AdaptiveFlow(max_in_flight, max_pause=backoff_max)
        # Flipped off after a server rejects json_schema but accepts json_object.
        self._json_schema = True

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

    @property
    def base_url(self) -> str:
        return str(self._client.base_url)

    @property
    def max_retries(self) -> int:
        return self.retry.max_retries

    def __repr__(self) -> str:  # never shows the key
        return f"OpenAILLM(model={self.model!r}, base_url={self.base_url!r})"

    # --- the four tasks -------------------------------------------------------------------

    def extract_entities(self, source: ExtractionInput, usage: Usage) -> EntityExtraction:
        if not source.messages:
            return EntityExtraction()
        prompt = _prompts.entity_prompt(source)
        return self._ask("extract_entities", prompt, EntityExtraction, usage, ontology=source.ontology)

    def extract_relations(self, source: ExtractionInput, entities: list[Entity], usage: Usage) -> RelationExtraction:
        if not source.messages:
            return RelationExtraction()
        prompt = _prompts.relation_prompt(source, entities)
        return self._ask("extract_relations", prompt, RelationExtraction, usage, ontology=source.ontology)

    def extract_graph(self, source: ExtractionInput, usage: Usage) -> GraphExtraction:
        if not source.messages:
            return GraphExtraction()
        prompt = _prompts.graph_prompt(source)
        return self._ask("extract_graph", prompt, GraphExtraction, usage, ontology=source.ontology)

    def resolve(self, request: ResolutionRequest, usage: Usage) -> ResolutionResult:
        if not request.items:
            return ResolutionResult()
        # the model's answer as given: the update resolver checks it (write.resolve.clean_decisions)
        return self._ask("resolve", _prompts.resolution_prompt(request), ResolutionResult, usage)

    # --- one structured question ----------------------------------------------------------

    def _ask(
        self, operation: str, prompt: _prompts.Prompt, model: type[T], usage: Usage, *, ontology: Ontology | None = None
    ) -> T:
        schema_name = re.sub(r"(?<!^)(?=[A-Z])", "_", model.__name__).lower()
        schema = answer_schema(model, ontology)
        messages = prompt.messages()
        key = self._cache_key(messages, schema_name, schema)
        cached = self._cache_read(key, model)
        if cached is not None:
            usage.record(LLMCall(operation=operation, model=self.model, cached=True))
            return cached

        content = self._complete(operation, messages, schema_name, schema, usage)
        try:
            result = _parse(model, content)
        except ValidationError as first:
            # One re-ask with the bad answer and the exact error: usually fixes a missing
            # field or stray prose. More rounds rarely help and cost tokens.
            retry = [
                *messages,
                {"role": "assistant", "content": content},
                {
                    "role": "user",
                    "content": "That answer does not fit the required JSON schema:\n"
                    f"{short(str(first))}\nReply again with only the corrected JSON object.",
                },
            ]
            content = self._complete(operation, retry, schema_name, schema, usage)
            try:
                result = _parse(model, content)
            except ValidationError as second:
                raise LLMError(
                    f"{operation}: model {self.model!r} at {self.base_url} returned output that does not fit "
                    f"the {schema_name} schema twice (asked once more after the first bad answer). "
                    f"Last error: {short(str(second))}. Use a model that supports structured output "
                    "(JSON schema), or set GRAPHMEM_LLM_PROVIDER=offline"
                ) from None
        self._cache_write(key, operation, content)
        return result

    def _complete(
        self,
        operation: str,
        messages: list[dict[str, str]],
        schema_name: str,
        schema: dict[str, Any],
        usage: Usage,
    ) -> str:
        """One model answer (with retries); records its LLMCall."""
        started = time.perf_counter()
        try:
            if self._json_schema:
                try:
                    response = self._create(operation, messages, _json_schema_format(schema_name, schema))
                except openai.BadRequestError as rejected:
                    # Many local servers reject json_schema; fall back to plain JSON mode with the
                    # schema spelled out in the prompt, and remember if that works.
                    try:
                        response = self._create(operation, _with_schema(messages, schema), {"type": "json_object"})
                    except openai.BadRequestError:
                        raise self._error(operation, rejected) from None
                    self._json_schema = False
                    log.info("%s rejected json_schema output; using json_object mode", self.base_url)
            else:
                response = self._create(operation, _with_schema(messages, schema), {"type": "json_object"})
        except openai.BadRequestError as exc:
            raise self._error(operation, exc) from None

        tokens = response.usage
        usage.record(
            LLMCall(
                operation=operation,
                model=self.model,
                prompt_tokens=tokens.prompt_tokens if tokens else 0,
                completion_tokens=tokens.completion_tokens if tokens else 0,
                seconds=time.perf_counter() - started,
            )
        )
        choice = response.choices[0].message if response.choices else None
        return (choice.content or "") if choice else ""

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
        return LLMError(f"{operation}: model {self.model!r} at {self.base_url} {text}")

    # --- on-disk cache --------------------------------------------------------------------

    def _cache_key(self, messages: list[dict[str, str]], schema_name: str, schema: dict[str, Any]) -> str:
        payload = json.dumps([self.model, messages, schema_name, schema], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def _cache_read(self, key: str, model: type[T]) -> T | None:
        if self.cache_dir is None:
            return None
        path = self.cache_dir / f"{key}.json"
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            return _parse(model, entry["content"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            # A corrupt or outdated entry is a miss; the fresh answer overwrites it.
            log.warning("ignoring unreadable LLM cache entry %s", path)
            return None

    def _cache_write(self, key: str, operation: str, content: str) -> None:
        if self.cache_dir is None:
            return
        path = self.cache_dir / f"{key}.json"
        entry = {"model": self.model, "operation": operation, "content": content}
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            # Write then rename, so a concurrent reader never sees half a file.
            tmp = path.with_name(f"{key}.{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_text(json.dumps(entry, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("could not write LLM cache entry %s (%s); check GRAPHMEM_LLM_CACHE", path, exc)


def _json_schema_format(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}


def _with_schema(messages: list[dict[str, str]], schema: dict[str, Any]) -> list[dict[str, str]]:
    """json_object mode cannot carry a schema, so the system prompt states it."""
    note = "\n\nReply with one JSON object only, matching this JSON schema:\n" + json.dumps(schema)
    first, *rest = messages
    return [{**first, "content": first["content"] + note}, *rest]


def _parse(model: type[T], content: str) -> T:
    # Some local models wrap JSON in a markdown fence even in JSON mode.
    fenced = _FENCE.match(content)
    return model.model_validate_json(fenced.group(1) if fenced else content)
