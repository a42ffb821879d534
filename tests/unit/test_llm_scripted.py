"""ScriptedLLM: the test double shipped to users."""

from __future__ import annotations

import pytest

from graphmem._errors import LLMError
from graphmem._models import (
    Entity,
    EntityExtraction,
    ExtractionInput,
    GraphExtraction,
    Message,
    RelationExtraction,
    ResolutionItem,
    ResolutionRequest,
    ResolutionResult,
    Triplet,
    Usage,
)
from graphmem.llm import LLM, RelationRequest, ScriptedLLM

SOURCE = ExtractionInput(messages=[Message(content="I live in Paris", name="Sam")])
PARIS = Triplet(source="Sam", relation="lives_in", target="Paris", target_type="City")


def request(n: int = 1) -> ResolutionRequest:
    return ResolutionRequest(items=[ResolutionItem(index=i, new=PARIS, candidates=[]) for i in range(n)])


def test_list_responses_are_consumed_in_order_in_every_form() -> None:
    llm = ScriptedLLM(
        entities=[
            EntityExtraction(entities=[Entity(name="A", type="Person")]),
            {"entities": [{"name": "B", "type": "city"}]},
            [Entity(name="C")],
            lambda source: {"entities": [{"name": source.messages[0].speaker}]},
        ]
    )
    usage = Usage()
    names = [llm.extract_entities(SOURCE, usage).entities[0].name for _ in range(4)]
    assert names == ["A", "B", "C", "Sam"]
    assert isinstance(llm, LLM) and llm.name == "scripted"

    with pytest.raises(RuntimeError, match="entities script ran out after 4"):
        llm.extract_entities(SOURCE, usage)


def test_callable_script_answers_every_call_and_sees_the_request() -> None:
    seen: list[RelationRequest] = []

    def relations(req: RelationRequest) -> RelationExtraction:
        seen.append(req)
        return RelationExtraction(triplets=[PARIS])

    llm = ScriptedLLM(relations=relations)
    entities = [Entity(name="Sam", type="Person")]
    for _ in range(3):
        assert llm.extract_relations(SOURCE, entities, Usage()).triplets == [PARIS]
    assert len(seen) == 3 and seen[0].source == SOURCE and seen[0].entities == entities


def test_every_call_is_recorded_with_estimated_tokens() -> None:
    answer = ResolutionResult.model_validate({"decisions": [{"index": 0, "action": "add"}]})
    llm = ScriptedLLM(resolve=[answer])
    usage = Usage()
    req = request()
    assert llm.resolve(req, usage) == answer

    (call,) = usage.calls
    assert (call.operation, call.model, call.cached) == ("resolve", "scripted", False)
    assert call.prompt_tokens == len(req.model_dump_json()) // 4 > 0
    assert call.completion_tokens == len(answer.model_dump_json()) // 4 > 0
    assert usage.llm_calls == 1
    assert llm.calls == [("resolve", req)] and llm.calls_of("resolve") == [req]


def test_unscripted_tasks_delegate_to_offline_and_still_count() -> None:
    llm = ScriptedLLM()
    usage = Usage()
    graph = llm.extract_graph(SOURCE, usage)
    assert [(t.source, t.relation, t.target) for t in graph.triplets] == [("Sam", "lives_in", "Paris")]
    decisions = llm.resolve(request(2), usage).decisions
    assert [d.action for d in decisions] == ["add", "add"]
    assert [c.operation for c in usage.calls] == ["extract_graph", "resolve"]
    assert usage.llm_calls == 2
    assert [op for op, _ in llm.calls] == ["extract_graph", "resolve"]


def test_fail_on_the_nth_call_of_a_task() -> None:
    llm = ScriptedLLM(
        resolve=[{"decisions": []}, {"decisions": [{"index": 0, "action": "noop"}]}],
        fail={"resolve": {2: LLMError("boom")}},
    )
    usage = Usage()
    assert llm.resolve(request(), usage).decisions == []
    with pytest.raises(LLMError, match="boom"):
        llm.resolve(request(), usage)
    # The failed call did not use up the second scripted response.
    assert llm.resolve(request(), usage).decisions[0].action == "noop"
    assert len(llm.calls_of("resolve")) == 3
    assert usage.llm_calls == 2  # a failed call returns nothing to count


def test_fail_every_call_and_other_tasks_unaffected() -> None:
    llm = ScriptedLLM(fail={"graph": TimeoutError("slow")})
    with pytest.raises(TimeoutError):
        llm.extract_graph(SOURCE, Usage())
    with pytest.raises(TimeoutError):
        llm.extract_graph(SOURCE, Usage())
    assert llm.extract_entities(SOURCE, Usage()).entities  # offline fallback still works


def test_bad_configuration_is_reported() -> None:
    with pytest.raises(ValueError, match="unknown task"):
        ScriptedLLM(fail={"extract_graph": {1: LLMError("x")}})
    with pytest.raises(TypeError, match="list of responses or a callable"):
        ScriptedLLM(graph="not a script")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="GraphExtraction"):
        ScriptedLLM(graph=[[PARIS]]).extract_graph(SOURCE, Usage())  # a bare list is ambiguous for graph


def test_graph_response_from_dict() -> None:
    llm = ScriptedLLM(graph=[{"entities": [{"name": "Sam", "type": "Person"}], "triplets": [PARIS.model_dump()]}])
    result = llm.extract_graph(SOURCE, Usage())
    assert isinstance(result, GraphExtraction) and result.triplets == [PARIS]
