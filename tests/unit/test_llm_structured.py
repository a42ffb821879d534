"""StructuredLLM over a provider that is not OpenAI-compatible: a fake transport that only
implements `Transport` gets re-ask, parsing, caching and usage from the generic client."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from graphmem._errors import LLMError
from graphmem._models import ExtractionInput, Message, Usage
from graphmem.llm.structured import Completion, StructuredLLM, Transport

SOURCE = ExtractionInput(messages=[Message(content="I live in Paris", name="Alice")])
VALID = json.dumps({"entities": [{"name": "Alice", "type": "Person"}, {"name": "Paris", "type": "City"}]})
INVALID = json.dumps({"entities": [{"type": "Person"}]})  # name missing


class CannedTransport:
    """Answers canned texts in order (the last one again when they run out); keeps every request."""

    model = "canned-model"
    endpoint = "in-process"

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.requests: list[dict[str, Any]] = []

    def complete(
        self, operation: str, messages: list[dict[str, str]], schema_name: str, schema: dict[str, Any]
    ) -> Completion:
        self.requests.append({"operation": operation, "messages": messages, "schema_name": schema_name})
        text = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return Completion(text=text, prompt_tokens=100 + len(self.requests), completion_tokens=10)


def test_invalid_answer_is_reasked_parsed_and_recorded() -> None:
    transport = CannedTransport(INVALID, VALID)
    checked: Transport = transport  # the fake fits the protocol (mypy checks this line where it runs)
    usage = Usage()

    result = StructuredLLM(checked).extract_entities(SOURCE, usage)

    assert [(e.name, e.type) for e in result.entities] == [("Alice", "Person"), ("Paris", "City")]
    assert len(transport.requests) == 2
    first, second = transport.requests
    assert (first["operation"], first["schema_name"]) == ("extract_entities", "entity_extraction")
    assert "Alice (user): I live in Paris" in first["messages"][-1]["content"]
    assert second["messages"][: len(first["messages"])] == first["messages"]
    assert second["messages"][-2] == {"role": "assistant", "content": INVALID}
    assert second["messages"][-1]["role"] == "user" and "does not fit" in second["messages"][-1]["content"]
    assert "name" in second["messages"][-1]["content"]  # the validation error is quoted

    assert usage.llm_calls == 2
    assert (usage.prompt_tokens, usage.completion_tokens) == (101 + 102, 20)
    assert [(c.operation, c.model, c.cached) for c in usage.calls] == [("extract_entities", "canned-model", False)] * 2


def test_two_invalid_answers_raise_naming_model_and_endpoint() -> None:
    transport = CannedTransport("Sure! The entities are Alice and Paris.")
    with pytest.raises(LLMError) as info:
        StructuredLLM(transport).extract_entities(SOURCE, Usage())
    assert len(transport.requests) == 2
    assert "'canned-model' at in-process" in str(info.value) and "entity_extraction" in str(info.value)


def test_cached_answer_costs_no_transport_call(tmp_path: Path) -> None:
    usage = Usage()
    first = CannedTransport("```json\n" + VALID + "\n```")  # fenced: parsed all the same
    assert StructuredLLM(first, cache_dir=tmp_path).extract_entities(SOURCE, usage).entities[1].name == "Paris"
    again = CannedTransport(INVALID)
    assert StructuredLLM(again, cache_dir=tmp_path).extract_entities(SOURCE, usage).entities[1].name == "Paris"
    assert (len(first.requests), len(again.requests)) == (1, 0)
    assert [c.cached for c in usage.calls] == [False, True] and usage.llm_calls == 1


def test_empty_input_asks_nothing() -> None:
    transport = CannedTransport(VALID)
    usage = Usage()
    assert StructuredLLM(transport).extract_graph(ExtractionInput(messages=[]), usage).entities == []
    assert transport.requests == [] and usage.calls == []


def test_the_generic_client_does_not_load_the_openai_client() -> None:
    code = "import sys, graphmem.llm.structured; print(sorted(m for m in sys.modules if m.split('.')[0] == 'openai'))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "[]"
