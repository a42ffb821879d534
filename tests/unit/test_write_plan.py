"""The write planner, pure: an add's decisions -> the parameters of cypher/write_add.cypher and
the AddResult, without Neo4j (graphmem/write/plan.plan_write)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from graphmem import Message, Scope
from graphmem._models import ConflictCandidate, ConflictSet, Fact, NodeMatch, ResolutionDecision, Triplet
from graphmem.write.plan import AddPlan, StoredMessage, plan_write

NOW = datetime(2026, 3, 1, tzinfo=UTC)
SCOPE = Scope(user_id="u1")


def node(name: str, type_: str, matched: bool = False) -> NodeMatch:
    return NodeMatch(name=name, type=type_, normalized=name.lower(), node_id=f"n-{name.lower()}", matched=matched)


def old_fact(fid: str, relation: str, target: str) -> Fact:
    return Fact(
        id=fid,
        source="Ana",
        source_type="Person",
        relation=relation,
        target=target,
        target_type="City",
        fact=f"Ana {relation} {target}",
        valid_from=datetime(2025, 1, 1, tzinfo=UTC),
        created_at=datetime(2025, 1, 1, tzinfo=UTC),
        source_id="n-ana",
        target_id=f"n-{target.lower()}",
        message_ids=["m-old"],
        user_id="u1",
    )


def plan(decisions: list[ResolutionDecision], conflicts: list[ConflictSet]) -> AddPlan:
    matches = {m.normalized: m for m in (node("Ana", "Person", True), node("Rome", "City"), node("Oslo", "City", True))}
    return AddPlan(
        scope=SCOPE,
        now=NOW,
        valid_from=NOW,
        messages=[StoredMessage(id="m-new", external_id=None, message=Message(content="I moved to Rome"))],
        matches=matches,
        entity_embeddings={name: [0.1, 0.2] for name in matches},
        conflicts=conflicts,
        fact_embeddings=[[0.3, 0.4] for _ in conflicts],
        decisions=decisions,
        message_embeddings=[[0.5, 0.6]],
    )


LIVES_ROME = Triplet(source="Ana", source_type="Person", relation="lives_in", target="Rome", target_type="City")
OSLO = old_fact("f-oslo", "lives_in", "Oslo")


def conflict(restated: Fact | None = None) -> ConflictSet:
    return ConflictSet(index=0, triplet=LIVES_ROME, source_id="n-ana", target_id="n-rome", restated=restated)


def test_a_contradiction_adds_the_new_fact_and_closes_the_old_one():
    params, result = plan_write(
        plan(
            [ResolutionDecision(index=0, action="invalidate", existing_ids=["f-oslo"])],
            [conflict().model_copy(update={"candidates": [ConflictCandidate(fact=OSLO, reason="same_relation")]})],
        )
    )
    [new] = params["new_facts"]
    assert (new["source_id"], new["relation"], new["target_id"]) == ("n-ana", "lives_in", "n-rome")
    assert params["invalidations"] == [{"id": "f-oslo", "valid_to": NOW, "invalidated_by": new["id"]}]
    assert [f.id for f in result.added] == [new["id"]] and result.invalidated[0].valid_to == NOW
    # only the nodes the facts use are written, each with its embedding; the turn with its stems
    assert {e["id"] for e in params["entities"]} == {"n-ana", "n-rome"}
    assert params["messages"][0]["stems"] == " i move to rome "
    assert params["stemmer"] and params["scope_key"] == SCOPE.key
    assert params["expected_version"] is None  # an add that read nothing claims nothing
    checked = plan([], []).model_copy(update={"scope_version": 7})
    assert plan_write(checked)[0]["expected_version"] == 7  # the write refuses if the clock moved on


def test_a_restatement_writes_no_fact_and_mentions_the_old_one_again():
    params, result = plan_write(
        plan([ResolutionDecision(index=0, action="noop", existing_ids=["f-oslo"])], [conflict(OSLO)])
    )
    assert params["new_facts"] == [] and params["entities"] == []
    assert params["restated"] == [{"id": "f-oslo", "message_ids": ["m-new"]}]
    assert result.noop[0].mentions == OSLO.mentions + 1 and result.noop[0].message_ids == ["m-old", "m-new"]


def test_an_update_rewrites_in_place_only_between_the_same_ends():
    same_ends = old_fact("f-rome", "visited", "Rome")
    params, result = plan_write(
        plan(
            [ResolutionDecision(index=0, action="update", existing_ids=["f-rome"])],
            [conflict().model_copy(update={"candidates": [ConflictCandidate(fact=same_ends, reason="same_pair")]})],
        )
    )
    assert params["updates"][0]["id"] == "f-rome" and params["updates"][0]["relation"] == "lives_in"
    assert params["new_facts"] == [] and result.updated[0].relation == "lives_in"
    # an update that would move the fact to another node keeps the old one as history
    params, result = plan_write(
        plan(
            [ResolutionDecision(index=0, action="update", existing_ids=["f-oslo"])],
            [conflict().model_copy(update={"candidates": [ConflictCandidate(fact=OSLO, reason="same_relation")]})],
        )
    )
    assert params["updates"] == [] and len(params["new_facts"]) == 1
    assert params["invalidations"][0]["id"] == "f-oslo"


def test_an_unsafe_relation_or_label_never_reaches_the_statement():
    bad = ConflictSet(
        index=0,
        triplet=LIVES_ROME.model_copy(update={"relation": "x]->() DETACH DELETE"}),
        source_id="n-ana",
        target_id="n-rome",
    )
    with pytest.raises(ValueError, match="refusing relation"):
        plan_write(plan([ResolutionDecision(index=0, action="add")], [bad]))
