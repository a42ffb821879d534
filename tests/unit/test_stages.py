"""Stages alone, without Neo4j: normalisation, extraction clean-up, the resolver's checks."""

from __future__ import annotations

from datetime import UTC, datetime

from graphmem._models import (
    ConflictCandidate,
    ConflictSet,
    ExtractionInput,
    Fact,
    Message,
    Triplet,
    Usage,
    normalize_label,
    normalize_name,
    normalize_relation,
)
from graphmem.llm import ScriptedLLM
from graphmem.write.extract import clean, extract
from graphmem.write.resolve import UpdateResolver

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def test_normalisers_make_untrusted_text_safe():
    assert normalize_name("  ALICE  Smith. ") == "alice smith"
    assert normalize_label("city") == "City"
    assert normalize_label("`Person`) DETACH DELETE n //") == "PersonDETACHDELETEN"
    assert normalize_label("123") == "T123"
    assert normalize_label("") == "Entity"
    assert normalize_relation("Lives In") == "lives_in"
    assert normalize_relation("worksAt") == "works_at"
    assert normalize_relation("}) DETACH DELETE n //") == "detach_delete_n"
    assert normalize_relation("!!!") == "related_to"


def test_first_person_becomes_the_speaker_and_self_loops_go():
    source = ExtractionInput(messages=[Message(role="user", name="Maya", content="x")])
    out = clean(
        source,
        [],
        [
            Triplet(source="I", relation="lives_in", target="Paris", target_type="City"),
            Triplet(source="me", relation="knows", target="myself"),
            Triplet(source="Maya", relation="lives_in", target="paris"),  # repeat of the first
        ],
    )
    assert [(t.source, t.relation, t.target) for t in out.triplets] == [("Maya", "lives_in", "Paris")]
    assert {e.name for e in out.entities} == {"Maya", "Paris"}


def test_two_pass_skips_stage_two_when_no_entity():
    llm = ScriptedLLM(entities=[[]])
    usage = Usage()
    result = extract(llm, ExtractionInput(messages=[Message(content="hmm")]), usage)
    assert result.triplets == [] and usage.llm_calls == 1


def _fact(fid: str, target: str) -> Fact:
    return Fact(
        id=fid,
        source="Sam",
        source_type="Person",
        relation="lives_in",
        target=target,
        target_type="City",
        fact=f"Sam lives in {target}",
        valid_from=NOW,
        created_at=NOW,
        source_id="s",
        target_id=target,
    )


def test_resolver_calls_llm_once_for_all_candidates_and_checks_its_ids():
    conflicts = [
        ConflictSet(
            index=0,
            triplet=Triplet(source="Sam", relation="lives_in", target="Rome"),
            source_id="s",
            target_id="rome",
            candidates=[ConflictCandidate(fact=_fact("f1", "Oslo"), reason="same_relation")],
        ),
        ConflictSet(
            index=1, triplet=Triplet(source="Sam", relation="likes", target="tea"), source_id="s", target_id="tea"
        ),
        ConflictSet(
            index=2,
            triplet=Triplet(source="Sam", relation="lives_in", target="Oslo"),
            source_id="s",
            target_id="Oslo",
            restated=_fact("f1", "Oslo"),
        ),
        ConflictSet(
            index=3,
            triplet=Triplet(source="Sam", relation="lives_in", target="Nice"),
            source_id="s",
            target_id="nice",
            candidates=[ConflictCandidate(fact=_fact("f2", "Bern"), reason="same_relation")],
        ),
    ]
    # the scripted LLM invalidates a fact it was not offered for item 0 and skips item 3
    llm = ScriptedLLM(resolve=[{"decisions": [{"index": 0, "action": "invalidate", "existing_ids": ["f1", "zzz"]}]}])
    usage = Usage()
    decisions = UpdateResolver(llm).resolve(conflicts, usage)
    assert usage.llm_calls == 1
    assert [(d.action, d.existing_ids) for d in decisions] == [
        ("invalidate", ["f1"]),
        ("add", []),
        ("noop", ["f1"]),
        ("add", []),
    ]
    [(_, request)] = llm.calls
    assert [item.index for item in request.items] == [0, 3]


def test_resolver_makes_no_llm_call_without_candidates():
    llm = ScriptedLLM()
    usage = Usage()
    conflicts = [
        ConflictSet(index=0, triplet=Triplet(source="A", relation="knows", target="B"), source_id="a", target_id="b")
    ]
    assert UpdateResolver(llm).resolve(conflicts, usage)[0].action == "add"
    assert usage.llm_calls == 0 and llm.calls == []
