"""graphmem under the benchmark: its real pipeline, an LLM stand-in answering from the script.

The stand-in is a `graphmem.llm.base.LLM`. It answers every call from the script's table
(text -> entities, relations) and, for resolution, invalidates a stored fact exactly when the
new fact gives a functional relation (lives_in, works_at) of the same source a new target:
the same rule the mem0 stand-in applies to mem0's delete call.

Tokens are estimated from the request `OpenAILLM` would send for that call (its real system +
user prompts from graphmem.llm._prompts and its JSON-schema response format) and from the
JSON answer, both as len(JSON)/4: the same estimate the mem0 side uses on mem0's real request
(messages + tools) and tool-call answer.
"""

from __future__ import annotations

import re
import time
from typing import Any

from graphmem import GraphMemory, Settings
from graphmem._models import (
    Entity,
    EntityExtraction,
    ExtractionInput,
    GraphExtraction,
    LLMCall,
    RelationExtraction,
    ResolutionDecision,
    ResolutionRequest,
    ResolutionResult,
    Triplet,
    Usage,
    normalize_name,
)
from graphmem.embed.base import Embedder
from graphmem.llm import _prompts
from graphmem.llm.base import LLM
from graphmem.llm.openai import _json_schema_format, answer_schema
from graphmem.store.transport import Store

from .data import FUNCTIONAL, SPEAKER, Extraction
from .meter import Meter

MODEL = "gpt-4o-mini"  # only named in the estimated request; nothing is sent anywhere


def _response_format(model: type) -> dict[str, Any]:
    name = re.sub(r"(?<!^)(?=[A-Z])", "_", model.__name__).lower()
    return _json_schema_format(name, answer_schema(model))  # what OpenAILLM sends


class GraphmemStandIn(LLM):
    name = "sidebyside-standin"

    def __init__(self, answers: dict[str, Extraction], meter: Meter):
        self.answers = answers
        self.meter = meter
        self._formats = {m: _response_format(m) for m in (EntityExtraction, RelationExtraction, ResolutionResult)}

    def _lookup(self, source: ExtractionInput) -> Extraction:
        text = source.messages[-1].content
        try:
            return self.answers[text]
        except KeyError:
            raise RuntimeError(f"stand-in has no scripted answer for {text!r}") from None

    def _record(
        self,
        operation: str,
        prompt: _prompts.Prompt,
        model: type,
        result: Any,
        usage: Usage,
        started: tuple[float, float],
    ) -> None:
        request = {"model": MODEL, "messages": prompt.messages(), "response_format": self._formats[model]}
        answer = result.model_dump_json()
        self.meter.llm(request, answer, time.perf_counter() - started[0], time.process_time() - started[1])
        usage.record(LLMCall(operation=operation, model="standin", seconds=time.perf_counter() - started[0]))

    def extract_entities(self, source: ExtractionInput, usage: Usage) -> EntityExtraction:
        started = (time.perf_counter(), time.process_time())
        found = self._lookup(source)
        result = EntityExtraction(entities=[Entity(name=n, type=t) for n, t in found.entities])
        self._record("extract_entities", _prompts.entity_prompt(source), EntityExtraction, result, usage, started)
        return result

    def extract_relations(self, source: ExtractionInput, entities: list[Entity], usage: Usage) -> RelationExtraction:
        started = (time.perf_counter(), time.process_time())
        found = self._lookup(source)
        types = dict(found.entities)
        result = RelationExtraction(
            triplets=[
                Triplet(
                    source=r.source,
                    source_type=types.get(r.source, "Entity"),
                    relation=r.relation,
                    target=r.target,
                    target_type=types.get(r.target, "Entity"),
                    fact=f"{r.source} {r.relation.replace('_', ' ')} {r.target}.",
                    confidence=1.0,
                )
                for r in found.relations
            ]
        )
        prompt = _prompts.relation_prompt(source, entities)
        self._record("extract_relations", prompt, RelationExtraction, result, usage, started)
        return result

    def extract_graph(self, source: ExtractionInput, usage: Usage) -> GraphExtraction:  # single pass: not used
        raise NotImplementedError("the benchmark runs graphmem's two-pass extraction, like mem0's")

    def resolve(self, request: ResolutionRequest, usage: Usage) -> ResolutionResult:
        started = (time.perf_counter(), time.process_time())
        decisions = []
        for item in request.items:
            new = item.new
            replaced = [
                f.id
                for f in item.candidates
                if new.relation in FUNCTIONAL
                and f.relation == new.relation
                and normalize_name(f.source) == normalize_name(new.source)
                and normalize_name(f.target) != normalize_name(new.target)
            ]
            if replaced:
                decisions.append(
                    ResolutionDecision(
                        index=item.index,
                        action="invalidate",
                        existing_ids=replaced,
                        reason="a new value of a single-valued relation",
                    )
                )
            else:
                decisions.append(ResolutionDecision(index=item.index, action="add", reason="compatible"))
        result = ResolutionResult(decisions=decisions)
        self._record("resolve", _prompts.resolution_prompt(request), ResolutionResult, result, usage, started)
        return result


class MeteredEmbedder(Embedder):
    def __init__(self, inner: Embedder, meter: Meter):
        self.inner = inner
        self.meter = meter
        self.dim = inner.dim
        self.model_name = inner.model_name

    def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        with self.meter.embed(len(texts)):
            return self.inner.embed(texts)


def meter_store(store: Store, meter: Meter) -> None:
    """Time every round trip (the counts come from graphmem's own Usage; these must agree).
    `_execute` is what `run` and `run_text` both call: wrapping it counts each once."""
    for name in ("_execute", "write_transaction", "run_read_only"):
        original = getattr(store, name)

        def timed(*args: Any, __original=original, **kwargs: Any) -> Any:
            with meter.neo4j():
                return __original(*args, **kwargs)

        setattr(store, name, timed)


class GraphmemSide:
    name = "graphmem"

    def __init__(self, settings: Settings, answers: dict[str, Extraction], embedder: Embedder):
        self.meter = Meter()
        self.llm = GraphmemStandIn(answers, self.meter)
        store = Store.connect(settings)
        self.memory = GraphMemory(
            store, llm=self.llm, embedder=MeteredEmbedder(embedder, self.meter), settings=settings, single_pass=False
        )
        meter_store(store, self.meter)  # after the schema check, so set-up queries are not counted
        self.meter.take()

    def add(self, text: str, user_id: str) -> tuple[dict[str, Any], Any]:
        started, cpu = time.perf_counter(), time.process_time()
        result = self.memory.add({"role": "user", "name": SPEAKER, "content": text}, user_id=user_id)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        counts = self.meter.take()
        figures = {
            "wall_s": wall,
            "cpu_s": cpu,
            **counts.as_dict(),
            "usage_round_trips": result.usage.neo4j_round_trips,
            "usage_llm_calls": result.usage.llm_calls,
            "replaced": len(result.invalidated),
        }
        return figures, result

    def search(self, query: str, user_id: str, limit: int = 5) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
        usage = Usage()
        started, cpu = time.perf_counter(), time.process_time()
        # the published side-by-side figures are of hybrid, the default when they were run
        hits = self.memory.search(query, user_id=user_id, mode="hybrid", episodes=0, limit=limit, usage=usage)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        counts = self.meter.take()
        figures = {
            "wall_s": wall,
            "cpu_s": cpu,
            **counts.as_dict(),
            "usage_round_trips": usage.neo4j_round_trips,
            "usage_llm_calls": usage.llm_calls,
        }
        return figures, [(h.fact.source, h.fact.relation, h.fact.target) for h in hits]

    def graph_stats(self, user_id: str) -> dict[str, int]:
        rows = self.memory.store.run_text(
            "MATCH (e:Entity {user_id: $u}) "
            "OPTIONAL MATCH (e)-[f:FACT]->() "
            "RETURN count(DISTINCT e) AS nodes, count(f) AS relations, "
            "count(CASE WHEN f IS NOT NULL AND f.valid_to IS NULL THEN 1 END) AS valid_relations",
            {"u": user_id},
        )
        self.meter.take()
        return dict(rows[0])

    def delete(self, user_id: str) -> int:
        deleted = self.memory.delete_all(user_id=user_id)
        self.meter.take()
        return deleted

    def close(self) -> None:
        self.memory.close()
