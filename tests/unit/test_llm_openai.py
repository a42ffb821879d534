"""OpenAILLM against a fake OpenAI-compatible endpoint (httpx MockTransport): no network."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import openai
import pytest

try:  # openai>=3 is built on httpx2; older releases on httpx
    import httpx2 as httpx
except ImportError:  # pragma: no cover
    import httpx  # type: ignore[no-redef]

from graphmem._errors import ConfigError, LLMError
from graphmem._models import (
    EntityExtraction,
    ExtractionInput,
    Fact,
    Message,
    RelationExtraction,
    ResolutionItem,
    ResolutionRequest,
    ResolutionResult,
    Triplet,
    Usage,
)
from graphmem._settings import Settings
from graphmem.llm import LazyLLM, OfflineLLM, OpenAILLM, make_llm
from graphmem.llm._prompts import graph_prompt, resolution_prompt
from graphmem.llm.openai import strict_schema
from graphmem.write.resolve import clean_decisions

BASE = "http://test/v1"
SECRET = "sk-test-secret-123"


def completion(content: str | None, prompt_tokens: int = 11, completion_tokens: int = 7) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "test-model",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


class FakeEndpoint:
    """Answers queued responses in order and keeps every request body."""

    def __init__(self, *responses: Any) -> None:
        self.responses = list(responses)
        self.requests: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(json.loads(request.content))
        item = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        if isinstance(item, Exception):
            raise item
        if isinstance(item, httpx.Response):
            return item
        return httpx.Response(200, json=completion(item if isinstance(item, str) else json.dumps(item)))

    def llm(self, **kwargs: Any) -> OpenAILLM:
        client = openai.OpenAI(
            api_key=SECRET,
            base_url=BASE,
            http_client=httpx.Client(transport=httpx.MockTransport(self)),
            max_retries=0,
        )
        kwargs.setdefault("backoff", 0.001)
        kwargs.setdefault("backoff_max", 0.002)
        return OpenAILLM("test-model", client=client, **kwargs)


def error(status: int, message: str = "nope", code: str | None = None) -> httpx.Response:
    return httpx.Response(status, json={"error": {"message": message, "type": "error", "code": code}})


SOURCE = ExtractionInput(messages=[Message(content="I live in Paris", name="Alice")])
TRIPLETS = {
    "triplets": [
        {
            "source": "Alice",
            "source_type": "Person",
            "relation": "lives in",
            "target": "Paris",
            "target_type": "city",
            "fact": "Alice lives in Paris.",
            "confidence": 0.9,
        }
    ]
}


def test_structured_answer_is_parsed_and_usage_recorded() -> None:
    endpoint = FakeEndpoint(httpx.Response(200, json=completion(json.dumps(TRIPLETS), 123, 45)))
    usage = Usage()
    result = endpoint.llm().extract_relations(SOURCE, [], usage)

    assert isinstance(result, RelationExtraction)
    (triplet,) = result.triplets
    assert (triplet.source, triplet.relation, triplet.target, triplet.target_type) == (
        "Alice",
        "lives_in",
        "Paris",
        "City",
    )
    assert usage.llm_calls == 1
    assert (usage.prompt_tokens, usage.completion_tokens) == (123, 45)
    assert usage.calls[0].operation == "extract_relations" and usage.calls[0].model == "test-model"

    (sent,) = endpoint.requests
    assert sent["model"] == "test-model"
    fmt = sent["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    triplet_schema = fmt["json_schema"]["schema"]["$defs"]["Triplet"]
    assert set(triplet_schema["required"]) == set(triplet_schema["properties"])
    assert triplet_schema["additionalProperties"] is False
    assert "Alice (user): I live in Paris" in sent["messages"][-1]["content"]


def test_invalid_json_then_valid_reasks_exactly_once() -> None:
    endpoint = FakeEndpoint("Sure! Here are the entities: Alice", {"entities": [{"name": "Alice", "type": "Person"}]})
    usage = Usage()
    result = endpoint.llm().extract_entities(SOURCE, usage)

    assert result == EntityExtraction.model_validate({"entities": [{"name": "Alice", "type": "Person"}]})
    assert len(endpoint.requests) == 2
    assert usage.llm_calls == 2
    reask = endpoint.requests[1]["messages"]
    assert reask[-2] == {"role": "assistant", "content": "Sure! Here are the entities: Alice"}
    assert reask[-1]["role"] == "user" and "does not fit" in reask[-1]["content"]


def test_schema_violation_twice_raises_llm_error() -> None:
    endpoint = FakeEndpoint({"entities": [{"type": "Person"}]})  # name missing, every time
    with pytest.raises(LLMError) as info:
        endpoint.llm().extract_entities(SOURCE, Usage())
    message = str(info.value)
    assert "extract_entities" in message and "test-model" in message and "name" in message
    assert len(endpoint.requests) == 2


def test_rate_limit_is_retried_then_succeeds() -> None:
    endpoint = FakeEndpoint(error(429, "slow down"), {"entities": []})
    usage = Usage()
    assert endpoint.llm(max_retries=2).extract_entities(SOURCE, usage) == EntityExtraction()
    assert len(endpoint.requests) == 2
    assert usage.llm_calls == 1  # the rejected attempt produced no answer


def test_rate_limits_are_retried_past_max_retries_until_the_patience_runs_out() -> None:
    refusals = [error(429, "slow down")] * 5
    endpoint = FakeEndpoint(*refusals, {"entities": []})
    # five 429s in a row: more than max_retries allows, within the patience
    assert endpoint.llm(max_retries=1, rate_limit_patience=5.0).extract_entities(SOURCE, Usage()) == EntityExtraction()
    assert len(endpoint.requests) == 6
    impatient = FakeEndpoint(*refusals, {"entities": []})
    with pytest.raises(LLMError) as info:
        impatient.llm(max_retries=1, rate_limit_patience=0).extract_entities(SOURCE, Usage())
    assert len(impatient.requests) == 2 and "HTTP 429" in str(info.value)
    assert "GRAPHMEM_LLM_RATE_LIMIT_PATIENCE" in str(info.value)


def test_server_errors_exhaust_retries_with_clear_message() -> None:
    endpoint = FakeEndpoint(error(500, "boom"))
    with pytest.raises(LLMError) as info:
        endpoint.llm(max_retries=2).extract_graph(SOURCE, Usage())
    message = str(info.value)
    assert len(endpoint.requests) == 3  # first try + 2 retries
    assert "extract_graph" in message and "test-model" in message and BASE in message
    assert "HTTP 500" in message and "3 attempt" in message and "OPENAI_BASE_URL" in message


def test_auth_error_is_not_retried_and_hides_the_key() -> None:
    endpoint = FakeEndpoint(error(401, f"Incorrect API key provided: {SECRET}"))
    with pytest.raises(LLMError) as info:
        endpoint.llm(max_retries=3).extract_entities(SOURCE, Usage())
    assert len(endpoint.requests) == 1
    assert "OPENAI_API_KEY" in str(info.value) and SECRET not in str(info.value)
    assert SECRET not in repr(endpoint.llm())


def test_connection_error_names_the_endpoint() -> None:
    endpoint = FakeEndpoint(httpx.ConnectError("connection refused"))
    with pytest.raises(LLMError, match="could not be reached.*OPENAI_BASE_URL"):
        endpoint.llm(max_retries=1).extract_entities(SOURCE, Usage())
    assert len(endpoint.requests) == 2


def test_timeout_is_retried_then_reported() -> None:
    endpoint = FakeEndpoint(httpx.ReadTimeout("read timed out"))
    with pytest.raises(LLMError, match=r"timed out \(5s per request\) after 2 attempt.*GRAPHMEM_LLM_TIMEOUT"):
        endpoint.llm(max_retries=1, timeout=5).extract_entities(SOURCE, Usage())
    assert len(endpoint.requests) == 2


def test_cache_hit_makes_no_request(tmp_path) -> None:
    endpoint = FakeEndpoint({"entities": [{"name": "Alice", "type": "Person"}]})
    usage = Usage()
    first = endpoint.llm(cache_dir=tmp_path).extract_entities(SOURCE, usage)
    second = endpoint.llm(cache_dir=tmp_path).extract_entities(SOURCE, usage)  # new instance, same dir

    assert first == second
    assert len(endpoint.requests) == 1
    assert [c.cached for c in usage.calls] == [False, True]
    assert usage.llm_calls == 1
    assert len(list(tmp_path.glob("*.json"))) == 1

    other = ExtractionInput(messages=[Message(content="I live in Rome", name="Alice")])
    endpoint.llm(cache_dir=tmp_path).extract_entities(other, usage)
    assert len(endpoint.requests) == 2  # a different prompt is a miss


def test_json_schema_rejected_falls_back_to_json_object() -> None:
    endpoint = FakeEndpoint(
        error(400, "response_format json_schema is not supported"),
        {"entities": [{"name": "Alice", "type": "Person"}]},
        {"entities": []},
    )
    llm = endpoint.llm()
    usage = Usage()
    assert llm.extract_entities(SOURCE, usage).entities[0].name == "Alice"
    llm.extract_entities(SOURCE, usage)

    formats = [r["response_format"]["type"] for r in endpoint.requests]
    assert formats == ["json_schema", "json_object", "json_object"]  # remembered after the first fallback
    assert '"additionalProperties": false' in endpoint.requests[1]["messages"][0]["content"]
    assert usage.llm_calls == 2


def test_bad_request_in_both_modes_is_an_llm_error() -> None:
    endpoint = FakeEndpoint(error(400, "context too long"))
    llm = endpoint.llm()
    with pytest.raises(LLMError, match="HTTP 400.*context too long.*GRAPHMEM_LLM_MODEL"):
        llm.extract_entities(SOURCE, Usage())
    assert [r["response_format"]["type"] for r in endpoint.requests] == ["json_schema", "json_object"]
    llm._json_schema = False  # as after an earlier successful fallback
    with pytest.raises(LLMError, match="HTTP 400"):
        llm.extract_entities(SOURCE, Usage())
    assert len(endpoint.requests) == 3


def test_fenced_json_is_accepted() -> None:
    endpoint = FakeEndpoint('```json\n{"entities": [{"name": "Alice", "type": "Person"}]}\n```')
    assert endpoint.llm().extract_entities(SOURCE, Usage()).entities[0].name == "Alice"
    assert len(endpoint.requests) == 1


def _fact(id: str, target: str) -> Fact:
    now = datetime(2024, 1, 1, tzinfo=UTC)
    return Fact(
        id=id,
        source="Alice",
        source_type="Person",
        relation="lives_in",
        target=target,
        target_type="City",
        fact=f"Alice lives in {target}.",
        valid_from=now,
        created_at=now,
    )


def test_resolve_keeps_only_applicable_decisions() -> None:
    request = ResolutionRequest(
        items=[
            ResolutionItem(
                index=0,
                new=Triplet(source="Alice", relation="lives_in", target="Berlin"),
                candidates=[_fact("f1", "Paris")],
            ),
            ResolutionItem(index=1, new=Triplet(source="Alice", relation="likes", target="tea"), candidates=[]),
            ResolutionItem(index=2, new=Triplet(source="Alice", relation="likes", target="jazz"), candidates=[]),
        ]
    )
    answer = {
        "decisions": [
            {"index": 0, "action": "invalidate", "existing_ids": ["f1", "made-up"], "reason": "moved"},
            {"index": 0, "action": "add", "existing_ids": [], "reason": "duplicate index"},
            {"index": 1, "action": "noop", "existing_ids": ["f1"], "reason": "id of another item"},
            {"index": 7, "action": "add", "existing_ids": [], "reason": "unknown index"},
        ]
    }
    endpoint = FakeEndpoint(answer)
    # the backend returns the answer as given; the update resolver's one check cleans it
    result = clean_decisions(request, endpoint.llm().resolve(request, Usage()))

    assert [(d.index, d.action, d.existing_ids) for d in result.decisions] == [
        (0, "invalidate", ["f1"]),
        (1, "add", []),
        (2, "add", []),
    ]
    prompt = endpoint.requests[0]["messages"][-1]["content"]
    assert "[0] NEW: Alice -[lives_in]-> Berlin" in prompt and "id=f1" in prompt


def test_empty_requests_make_no_call() -> None:
    endpoint = FakeEndpoint({"decisions": []})
    usage = Usage()
    assert endpoint.llm().resolve(ResolutionRequest(items=[]), usage) == ResolutionResult()
    assert endpoint.requests == [] and usage.calls == []


def test_prompt_shows_timestamps_and_separates_context() -> None:
    source = ExtractionInput(
        context=[Message(content="I live in Paris", name="Alice", timestamp=datetime(2024, 1, 1, 9, 0))],
        messages=[Message(content="I moved to Berlin", name="Alice", timestamp=datetime(2024, 5, 2, 10, 30))],
    )
    user = graph_prompt(source).user
    context_part, new_part = user.split("NEW TURNS")
    assert "CONTEXT" in context_part and "I live in Paris" in context_part
    assert "[1] 2024-05-02 10:30 UTC | Alice (user): I moved to Berlin" in new_part
    assert "I live in Paris" not in new_part


def test_resolution_prompt_lists_candidates_per_item() -> None:
    request = ResolutionRequest(
        items=[
            ResolutionItem(
                index=3,
                new=Triplet(source="Alice", relation="lives_in", target="Berlin"),
                candidates=[_fact("abc", "Paris")],
            ),
        ]
    )
    text = resolution_prompt(request).user
    assert "[3] NEW: Alice -[lives_in]-> Berlin" in text
    assert "stored id=abc: Alice -[lives_in]-> Paris" in text and "since 2024-01-01" in text


def test_strict_schema_keeps_fields_named_like_keywords() -> None:
    schema = {
        "type": "object",
        "properties": {"default": {"type": "string", "default": "x", "maxLength": 3}},
        "required": [],
    }
    fixed = strict_schema(schema)
    assert fixed["properties"] == {"default": {"type": "string"}}
    assert fixed["required"] == ["default"] and fixed["additionalProperties"] is False
    assert schema["properties"]["default"]["maxLength"] == 3  # input untouched


def test_strict_schema_leaves_out_titles_and_docstrings_but_keeps_field_descriptions() -> None:
    schema = {
        "title": "Answer",
        "description": "A docstring, for developers.",
        "type": "object",
        "properties": {"city": {"title": "City", "type": "string", "description": "where they live now"}},
    }
    assert strict_schema(schema) == {
        "type": "object",
        "properties": {"city": {"type": "string", "description": "where they live now"}},
        "required": ["city"],
        "additionalProperties": False,
    }


def test_settings_select_the_backend(monkeypatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "GRAPHMEM_LLM_PROVIDER"):
        monkeypatch.delenv(name, raising=False)
    assert isinstance(make_llm(Settings()), OfflineLLM)

    lazy = make_llm(Settings(openai_base_url="http://localhost:11434/v1", llm_model="llama3.1", llm_max_retries=1))
    assert isinstance(lazy, LazyLLM) and not lazy.loaded  # the client is built at the first call
    assert (lazy.name, lazy.is_fallback) == ("openai", False)
    local = lazy.load()
    assert isinstance(local, OpenAILLM) and lazy.load() is local
    assert local.model == "llama3.1" and local.max_retries == 1
    assert local.base_url.startswith("http://localhost:11434/v1")

    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        OpenAILLM.from_settings(Settings(llm_provider="openai"))
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):  # a bad setting fails when the memory opens
        make_llm(Settings(llm_provider="openai"))
