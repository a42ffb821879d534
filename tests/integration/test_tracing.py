"""OpenTelemetry spans, as an operator's SDK records them: an add with a span per stage, a
search with its mode and what it found, a model call per GenAI conventions; the texts said
never in an attribute. Against the real Neo4j, spans kept in memory by the SDK."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from graphmem import GraphMemory
from graphmem._models import ExtractionInput, Message, Usage
from graphmem.llm.structured import Completion, StructuredLLM

pytestmark = pytest.mark.neo4j
_EXPORTER = InMemorySpanExporter()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    if not isinstance(trace.get_tracer_provider(), TracerProvider):  # once per process
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        trace.set_tracer_provider(provider)
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()


def _named(spans: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [s for s in spans.get_finished_spans() if s.name == name]


def test_an_add_and_a_search_are_traced(memory: GraphMemory, new_user, spans: InMemorySpanExporter) -> None:
    user = new_user("traced")
    memory.add({"role": "user", "name": "Ana", "content": "I live in Porto and I work at Sonae."}, user_id=user)
    stages = {s.name: s for s in spans.get_finished_spans()}
    assert {"graphmem.extract", "graphmem.embed", "graphmem.match", "graphmem.detect", "graphmem.write"} <= set(stages)
    [add] = _named(spans, "graphmem.add")
    assert add.attributes["graphmem.user_id"] == user and add.attributes["graphmem.facts_added"] == 2
    for name in ("graphmem.extract", "graphmem.write"):  # the stages are the add's children
        assert stages[name].parent is not None and stages[name].parent.span_id == add.context.span_id

    spans.clear()
    found = memory.search("Where does Ana work?", user_id=user, mode="hybrid", limit=3)
    [search] = _named(spans, "graphmem.search")
    assert search.attributes["graphmem.mode"] == "hybrid" and search.attributes["graphmem.limit"] == 3
    assert search.attributes["graphmem.hits"] == len(found) > 0
    assert search.attributes["graphmem.neo4j_round_trips"] >= 1
    said = json.dumps([dict(s.attributes or {}) for s in spans.get_finished_spans()])
    assert "Porto" not in said and "Where does" not in said  # texts are not recorded


def test_a_model_call_is_a_genai_span(spans: InMemorySpanExporter) -> None:
    class Canned:
        model, endpoint = "canned-model", "in-process"

        def complete(self, operation, messages, schema_name, schema) -> Completion:
            answer = {"entities": [{"name": "Ana", "type": "Person"}]}
            return Completion(text=json.dumps(answer), prompt_tokens=120, completion_tokens=12)

    StructuredLLM(Canned()).extract_entities(ExtractionInput(messages=[Message(content="I am Ana")]), Usage())
    [call] = _named(spans, "chat canned-model")
    assert dict(call.attributes or {}) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "canned-model",
        "graphmem.llm.task": "extract_entities",
        "gen_ai.usage.input_tokens": 120,
        "gen_ai.usage.output_tokens": 12,
    }


def test_an_async_adds_stages_are_children_of_its_span_across_the_lanes(
    memory: GraphMemory, new_user, spans: InMemorySpanExporter
) -> None:
    import asyncio

    from graphmem import AsyncGraphMemory

    user = new_user("traced-async")
    asyncio.run(AsyncGraphMemory(memory).add("I live in Braga.", user_id=user))
    [add] = _named(spans, "graphmem.add")
    extract, write = _named(spans, "graphmem.extract")[0], _named(spans, "graphmem.write")[0]
    # extraction ran on a prepare thread, the write on a commit thread: both under the add
    assert extract.parent.span_id == write.parent.span_id == add.context.span_id
    assert add.attributes["graphmem.facts_added"] == 1
