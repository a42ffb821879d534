"""The four `LLM` tasks as structured questions to any model behind a `Transport`.

A provider implements only `Transport.complete` (one answer to one request, its own retries);
this module does the rest: prompts, the answer schema, parsing and validating the answer, one
re-ask when it does not fit, the on-disk answer cache, and the `LLMCall`s recorded into `Usage`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

from pydantic import BaseModel, ValidationError

from .._errors import LLMError, short
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
from .._tracing import span
from ..ontology.model import Ontology
from . import _prompts
from .base import LLM

log = logging.getLogger(__name__)

T = TypeVar("T", bound=BaseModel)

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


@dataclass(frozen=True)
class Completion:
    """One model answer: its text, and the tokens it cost (0 when the provider does not say)."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Transport(Protocol):
    """What a provider implements: how to get one answer from its model."""

    @property
    def model(self) -> str:
        """The model's name: recorded in usage, part of the cache key, named in errors."""

    @property
    def endpoint(self) -> str:
        """Where the model is served (a URL, or any short label), named in errors."""

    def complete(
        self, operation: str, messages: list[dict[str, str]], schema_name: str, schema: dict[str, Any]
    ) -> Completion:
        """The model's answer to `messages` (chat messages, system first), asked to fit the
        JSON `schema`. Retries transient failures itself; raises `LLMError` when it gives up.
        `operation` is the task's name, for error texts."""
        ...


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


class StructuredLLM(LLM):
    """`LLM` that asks every task as one structured question through `transport`.

    With `cache_dir`, valid answers are kept on disk, keyed by model, prompt and schema, so
    the same question is never paid for twice (also across processes).
    """

    name = "structured"

    def __init__(self, transport: Transport, *, cache_dir: str | Path | None = None) -> None:
        self.transport = transport
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir else None

    @property
    def model(self) -> str:
        return self.transport.model

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model!r}, endpoint={self.transport.endpoint!r})"

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
                    f"{operation}: model {self.model!r} at {self.transport.endpoint} returned output that does not "
                    f"fit the {schema_name} schema twice (asked once more after the first bad answer). "
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
        """One model answer (the transport's retries included); records its LLMCall."""
        started = time.perf_counter()
        # OpenTelemetry's GenAI conventions: "{operation} {model}", the model and the tokens
        attributes = {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": self.model,
            "graphmem.llm.task": operation,
        }
        with span(f"chat {self.model}", attributes) as current:
            answer = self.transport.complete(operation, messages, schema_name, schema)
            current.set_attribute("gen_ai.usage.input_tokens", answer.prompt_tokens)
            current.set_attribute("gen_ai.usage.output_tokens", answer.completion_tokens)
        usage.record(
            LLMCall(
                operation=operation,
                model=self.model,
                prompt_tokens=answer.prompt_tokens,
                completion_tokens=answer.completion_tokens,
                seconds=time.perf_counter() - started,
            )
        )
        return answer.text

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


def _parse(model: type[T], content: str) -> T:
    # Some local models wrap JSON in a markdown fence even in JSON mode.
    fenced = _FENCE.match(content)
    return model.model_validate_json(fenced.group(1) if fenced else content)
