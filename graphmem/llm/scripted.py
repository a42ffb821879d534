"""A scriptable `LLM` test double, shipped so users can test code built on graphmem.

Scripts, one per task (all optional)::

    ScriptedLLM(
        entities=[EntityExtraction(...), {"entities": [...]}],   # consumed in order
        relations=[[Triplet(...), ...]],                         # a bare list fills the main field
        graph=lambda source: GraphExtraction(...),               # a callable answers every call
        resolve=[{"decisions": [{"index": 0, "action": "add"}]}, lambda request: ...],
        fail={"resolve": {2: LLMError("boom")}},                 # 2nd resolve call raises
    )

A response is a result model, a dict (validated into it), a list (the `entities`,
`triplets` or `decisions` field; not for graph), or a callable taking the request and
returning one of those. A task without a script is delegated to `fallback` (an
`OfflineLLM` by default), so a ScriptedLLM can stand in for a real model. A script list
that runs out raises RuntimeError: that is a bug in the test, not an LLM failure.

`latency` (seconds) is slept on every call, a model's response time.

`fail` maps a task to `{call_number: exception}` (1-based, counted per task) or to one
exception raised on every call. A failing call does not consume a scripted response.

Every call, failed or not, is appended to `.calls` as `(operation, request)`; every call
that returns records one LLMCall(model="scripted") with tokens estimated as len(json)//4.
Operations are the method names: extract_entities, extract_relations, extract_graph,
resolve. The relations request is a `RelationRequest(source, entities)`.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from pydantic import BaseModel

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
from .base import LLM
from .offline import OfflineLLM

Response = BaseModel | dict[str, Any] | list[Any] | Callable[[Any], Any]
Script = Sequence[Response] | Callable[[Any], Any]
_R = TypeVar("_R", bound=BaseModel)


@dataclass(frozen=True)
class RelationRequest:
    """What extract_relations was asked: the turns and the entities found in them."""

    source: ExtractionInput
    entities: list[Entity]

    def model_dump_json(self) -> str:
        entities = ",".join(e.model_dump_json() for e in self.entities)
        return f'{{"source":{self.source.model_dump_json()},"entities":[{entities}]}}'


# task -> (operation name, result model, field a bare list fills)
_TASKS: dict[str, tuple[str, type[BaseModel], str | None]] = {
    "entities": ("extract_entities", EntityExtraction, "entities"),
    "relations": ("extract_relations", RelationExtraction, "triplets"),
    "graph": ("extract_graph", GraphExtraction, None),
    "resolve": ("resolve", ResolutionResult, "decisions"),
}


class ScriptedLLM(LLM):
    """Answers from scripts, counts calls, and injects faults on request."""

    name = "scripted"

    def __init__(
        self,
        *,
        entities: Script | None = None,
        relations: Script | None = None,
        graph: Script | None = None,
        resolve: Script | None = None,
        fail: Mapping[str, Mapping[int, BaseException] | BaseException] | None = None,
        fallback: LLM | None = None,
        model: str = "scripted",
        latency: float = 0.0,
    ) -> None:
        self.model = model
        self.latency = latency
        self.fallback = fallback or OfflineLLM()
        self.calls: list[tuple[str, Any]] = []
        self._scripts: dict[str, deque[Response] | Callable[[Any], Any] | None] = {}
        for task, script in {"entities": entities, "relations": relations, "graph": graph, "resolve": resolve}.items():
            if script is None or callable(script):
                self._scripts[task] = script
            elif isinstance(script, (list, tuple)):
                self._scripts[task] = deque(script)
            else:
                raise TypeError(
                    f"ScriptedLLM {task}= must be a list of responses or a callable, got {type(script).__name__}"
                )
        unknown = set(fail or {}) - set(_TASKS)
        if unknown:
            raise ValueError(f"ScriptedLLM fail= has unknown task(s) {sorted(unknown)}; use {sorted(_TASKS)}")
        self._fail = dict(fail or {})
        self._given: Counter[str] = Counter({t: len(s) for t, s in self._scripts.items() if isinstance(s, deque)})
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def calls_of(self, operation: str) -> list[Any]:
        """Requests of one operation, e.g. `llm.calls_of("resolve")`."""
        return [request for op, request in self.calls if op == operation]

    # --- the four tasks -------------------------------------------------------------------

    def extract_entities(self, source: ExtractionInput, usage: Usage) -> EntityExtraction:
        return self._run("entities", source, usage, lambda: self.fallback.extract_entities(source, Usage()))

    def extract_relations(self, source: ExtractionInput, entities: list[Entity], usage: Usage) -> RelationExtraction:
        request = RelationRequest(source, list(entities))
        return self._run(
            "relations", request, usage, lambda: self.fallback.extract_relations(source, entities, Usage())
        )

    def extract_graph(self, source: ExtractionInput, usage: Usage) -> GraphExtraction:
        return self._run("graph", source, usage, lambda: self.fallback.extract_graph(source, Usage()))

    def resolve(self, request: ResolutionRequest, usage: Usage) -> ResolutionResult:
        return self._run("resolve", request, usage, lambda: self.fallback.resolve(request, Usage()))

    # --- machinery ------------------------------------------------------------------------

    def _run(self, task: str, request: Any, usage: Usage, delegate: Callable[[], _R]) -> _R:
        operation, result_type, list_field = _TASKS[task]
        with self._lock:  # the pipeline may call from several threads
            self._counts[task] += 1
            number = self._counts[task]
            self.calls.append((operation, request))
            failure = self._failure(task, number)
            script = self._scripts[task]
            response: Any = None
            if failure is None and isinstance(script, deque):
                if not script:
                    raise RuntimeError(
                        f"ScriptedLLM: the {task} script ran out after {self._given[task]} response(s) "
                        f"(this is {operation} call {number}); add responses or pass a callable"
                    )
                response = script.popleft()
        started = time.perf_counter()
        if self.latency:
            time.sleep(self.latency)  # outside the lock: calls in flight overlap, as a server's do
        if failure is not None:
            raise failure
        result: BaseModel
        if script is None:
            result = delegate()  # the fallback's own usage is discarded: this call is counted once, here
        else:
            if callable(script):
                response = script
            if callable(response) and not isinstance(response, BaseModel):
                response = response(request)
            result = _coerce(task, result_type, list_field, response)
        usage.record(
            LLMCall(
                operation=operation,
                model=self.model,
                prompt_tokens=len(request.model_dump_json()) // 4,
                completion_tokens=len(result.model_dump_json()) // 4,
                seconds=time.perf_counter() - started,
            )
        )
        return cast(_R, result)  # _TASKS gives each task the result type of its delegate

    def _failure(self, task: str, number: int) -> BaseException | None:
        rule = self._fail.get(task)
        if isinstance(rule, BaseException):
            return rule
        return rule.get(number) if rule else None


def _coerce(task: str, result_type: type[BaseModel], list_field: str | None, value: Any) -> BaseModel:
    if isinstance(value, result_type):
        return value
    if isinstance(value, BaseModel):
        return result_type.model_validate(value.model_dump())
    if isinstance(value, dict):
        return result_type.model_validate(value)
    if isinstance(value, list) and list_field:
        return result_type.model_validate({list_field: value})
    raise TypeError(
        f"ScriptedLLM {task} response must be a {result_type.__name__}, a dict"
        f"{', a list' if list_field else ''} or a callable returning one; got {type(value).__name__}"
    )
