"""OfflineLLM: the rule-based extractor and resolver (no model, no Neo4j)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

import graphmem
from graphmem._models import ExtractionInput, Fact, Message, ResolutionItem, ResolutionRequest, Triplet, Usage
from graphmem.llm import OfflineLLM


def triplets(text: str, speaker: str | None = "Sam") -> list[tuple[str, str, str, str]]:
    source = ExtractionInput(messages=[Message(content=text, name=speaker)])
    found = OfflineLLM().extract_relations(source, [], Usage()).triplets
    return [(t.source, t.relation, t.target, t.target_type) for t in found]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I live in Paris", [("Sam", "lives_in", "Paris", "City")]),
        ("I moved to Berlin.", [("Sam", "lives_in", "Berlin", "City")]),
        (
            "My sister Anna works at Acme",
            [("Anna", "sister_of", "Sam", "Person"), ("Anna", "works_at", "Acme", "Organization")],
        ),
        ("I'm allergic to peanuts", [("Sam", "allergic_to", "peanuts", "Food")]),
        ("I\u2019m allergic to pollen", [("Sam", "allergic_to", "pollen", "Substance")]),
        ("I work for Initech", [("Sam", "works_at", "Initech", "Organization")]),
        ("I work at Acme Corp.", [("Sam", "works_at", "Acme Corp", "Organization")]),
        ("I like pizza and sushi", [("Sam", "likes", "pizza", "Food"), ("Sam", "likes", "sushi", "Food")]),
        ("I love hiking", [("Sam", "loves", "hiking", "Activity")]),
        ("I hate olives because they are salty", [("Sam", "hates", "olives", "Thing")]),
        ("My name is Samuel", [("Sam", "name", "Samuel", "Person")]),
        ("I am a teacher", [("Sam", "works_as", "teacher", "Profession")]),
        ("I'm a software engineer at Google", [("Sam", "works_as", "software engineer", "Profession")]),
        ("I'm a vegetarian", [("Sam", "is_a", "vegetarian", "Category")]),
        ("Alice lives in Paris.", [("Alice", "lives_in", "Paris", "City")]),
        ("Bob works at Acme", [("Bob", "works_at", "Acme", "Organization")]),
        (
            "I live in New York and work at Google",
            [
                ("Sam", "lives_in", "New York", "City"),
                ("Sam", "works_at", "Google", "Organization"),
            ],
        ),
        ("I love Paris but I hate London", [("Sam", "loves", "Paris", "City"), ("Sam", "hates", "London", "City")]),
        ("I'm from Spain", [("Sam", "comes_from", "Spain", "Country")]),
        ("Anna is my sister", [("Anna", "sister_of", "Sam", "Person")]),
        (
            "My mom, Carol, lives in Boston",
            [
                ("Carol", "mother_of", "Sam", "Person"),
                ("Carol", "lives_in", "Boston", "City"),
            ],
        ),
    ],
)
def test_example_sentences(text: str, expected: list[tuple[str, str, str, str]]) -> None:
    assert triplets(text) == expected


@pytest.mark.parametrize(
    "text",
    ["I don't like olives", "The weather is nice today", "Where do you live?", "I'd like a coffee", "Thanks!"],
)
def test_no_fact_no_triplet(text: str) -> None:
    assert triplets(text) == []


def test_first_person_is_the_speaker() -> None:
    assert triplets("I live in Rome", speaker="Maria") == [("Maria", "lives_in", "Rome", "City")]
    # Without a name the role is the speaker.
    assert triplets("I live in Rome", speaker=None) == [("user", "lives_in", "Rome", "City")]


def test_each_sentence_and_turn_yields_triplets() -> None:
    source = ExtractionInput(
        messages=[
            Message(content="I live in Paris. I work at Acme! My sister Anna lives in Lyon", name="Sam"),
            Message(content="I live in Oslo", name="Kari"),
        ]
    )
    found = OfflineLLM().extract_graph(source, Usage())
    assert [(t.source, t.relation, t.target) for t in found.triplets] == [
        ("Sam", "lives_in", "Paris"),
        ("Sam", "works_at", "Acme"),
        ("Anna", "sister_of", "Sam"),
        ("Anna", "lives_in", "Lyon"),
        ("Kari", "lives_in", "Oslo"),
    ]
    assert [(e.name, e.type) for e in found.entities] == [
        ("Sam", "Person"),
        ("Paris", "City"),
        ("Acme", "Organization"),
        ("Anna", "Person"),
        ("Lyon", "City"),
        ("Kari", "Person"),
        ("Oslo", "City"),
    ]
    assert found.triplets[0].fact == "Sam lives in Paris."
    assert found.triplets[2].fact == "Anna is Sam's sister."


def test_context_is_not_extracted() -> None:
    source = ExtractionInput(
        context=[Message(content="I live in Paris", name="Sam")],
        messages=[Message(content="I work at Acme", name="Sam")],
    )
    assert [(t.relation, t.target) for t in OfflineLLM().extract_graph(source, Usage()).triplets] == [
        ("works_at", "Acme")
    ]


def test_repeated_fact_in_a_turn_is_returned_once() -> None:
    assert triplets("I live in Paris. I live in Paris!") == [("Sam", "lives_in", "Paris", "City")]


def test_deterministic_and_records_no_usage() -> None:
    source = ExtractionInput(
        messages=[Message(content="My sister Anna works at Acme. I like tea and jazz", name="Sam")]
    )
    usage = Usage()
    llm = OfflineLLM()
    runs = [llm.extract_graph(source, usage).model_dump() for _ in range(3)]
    runs.append(OfflineLLM().extract_graph(source, usage).model_dump())
    assert all(run == runs[0] for run in runs)
    assert llm.extract_entities(source, usage).entities == llm.extract_graph(source, usage).entities
    assert usage.calls == [] and usage.llm_calls == 0
    assert llm.name == "offline" and llm.is_fallback is True


def _fact(id: str, relation: str, target: str, source: str = "Sam", closed: bool = False) -> Fact:
    at = datetime(2024, 1, 1, tzinfo=UTC)
    return Fact(
        id=id,
        source=source,
        source_type="Person",
        relation=relation,
        target=target,
        target_type="Entity",
        fact=f"{source} {relation} {target}",
        valid_from=at,
        created_at=at,
        valid_to=at if closed else None,
    )


def _decide(new: Triplet, *candidates: Fact) -> tuple[str, list[str]]:
    request = ResolutionRequest(items=[ResolutionItem(index=4, new=new, candidates=list(candidates))])
    usage = Usage()
    (decision,) = OfflineLLM().resolve(request, usage).decisions
    assert decision.index == 4 and usage.calls == []
    return decision.action, decision.existing_ids


def test_move_invalidates_the_old_city() -> None:
    (moved,) = [
        t
        for t in OfflineLLM()
        .extract_relations(ExtractionInput(messages=[Message(content="I moved to Berlin", name="Sam")]), [], Usage())
        .triplets
    ]
    assert _decide(moved, _fact("f1", "lives_in", "Paris"), _fact("f2", "likes", "Berlin")) == ("invalidate", ["f1"])


def test_same_fact_is_noop() -> None:
    new = Triplet(source="sam", relation="lives_in", target="PARIS")
    assert _decide(new, _fact("f1", "lives_in", "Paris")) == ("noop", ["f1"])


def test_multi_valued_relation_adds() -> None:
    new = Triplet(source="Sam", relation="likes", target="jazz")
    assert _decide(new, _fact("f1", "likes", "tea")) == ("add", [])


def test_other_subject_or_closed_fact_is_not_a_conflict() -> None:
    new = Triplet(source="Sam", relation="lives_in", target="Berlin")
    assert _decide(new, _fact("f1", "lives_in", "Paris", source="Anna")) == ("add", [])
    assert _decide(new, _fact("f2", "lives_in", "Paris", closed=True)) == ("add", [])


def test_resolve_answers_every_item_in_order() -> None:
    items = [
        ResolutionItem(index=i, new=Triplet(source="Sam", relation="works_at", target=t), candidates=[])
        for i, t in enumerate(["Acme", "Initech"])
    ]
    result = OfflineLLM().resolve(ResolutionRequest(items=items), Usage())
    assert [(d.index, d.action) for d in result.decisions] == [(0, "add"), (1, "add")]


# Defects seen on the bundled sample transcript (graphmem/data/sample_transcript.jsonl).
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A filler after a comma is not an object; objects stop at a comma.
        ("I love sushi, by the way.", [("Maya", "loves", "sushi")]),
        ("I love sushi, too", [("Maya", "loves", "sushi")]),
        ("I like tea as well", [("Maya", "likes", "tea")]),
        ("I like jazz these days", [("Maya", "likes", "jazz")]),
        (
            "I like pizza, pasta, and sushi, by the way",
            [
                ("Maya", "likes", "pizza"),
                ("Maya", "likes", "pasta"),
                ("Maya", "likes", "sushi"),
            ],
        ),
        # "and also allergic to ..." is a second predicate, not an object.
        (
            "I'm allergic to peanuts and also allergic to shellfish.",
            [
                ("Maya", "allergic_to", "peanuts"),
                ("Maya", "allergic_to", "shellfish"),
            ],
        ),
        # A leading interjection does not stop third-person extraction; trailing "still" is dropped.
        ("Yes, Anna lives in Berlin still.", [("Anna", "lives_in", "Berlin")]),
        ("Well, Anna lives in Rome now", [("Anna", "lives_in", "Rome")]),
        ("No, Anna is my sister", [("Anna", "sister_of", "Maya")]),
        ("Exactly. Anna lives in Berlin with her dog Pixel.", [("Anna", "lives_in", "Berlin")]),
        (
            "Sometimes. My sister Anna works at Acme in Berlin.",
            [
                ("Anna", "sister_of", "Maya"),
                ("Anna", "works_at", "Acme"),
            ],
        ),
        (
            "Yes, my teacher Clara lives in London too.",
            [("Clara", "teacher_of", "Maya"), ("Clara", "lives_in", "London")],
        ),
        # ';' separates clauses.
        ("I work at Northwind now; I left Lumen Labs.", [("Maya", "works_at", "Northwind")]),
        ("Anna lives in Berlin with her dog Pixel.", [("Anna", "lives_in", "Berlin")]),
        ("Great so far. I'm learning to play the cello.", [("Maya", "learning", "cello")]),
        ("I'm learning to cook", []),
        ("I also like hiking on weekends.", [("Maya", "likes", "hiking")]),
        ("I'm a vegetarian now", [("Maya", "is_a", "vegetarian")]),
    ],
)
def test_sample_transcript_defects(text: str, expected: list[tuple[str, str, str]]) -> None:
    assert [t[:3] for t in triplets(text, speaker="Maya")] == expected


def test_learning_fact_reads_as_a_sentence() -> None:
    source = ExtractionInput(messages=[Message(content="I'm learning to play the cello.", name="Maya")])
    (found,) = OfflineLLM().extract_relations(source, [], Usage()).triplets
    assert found.fact == "Maya is learning cello."


def test_assistant_turns_are_skipped() -> None:
    for text in ["Paris is a lovely base for travel.", "Madrid is a short flight from London.", "I live in Paris"]:
        source = ExtractionInput(messages=[Message(role="assistant", content=text)])
        assert OfflineLLM().extract_graph(source, Usage()).triplets == []
    mixed = ExtractionInput(
        messages=[
            Message(role="assistant", content="Anna lives in Rome."),
            Message(content="Anna lives in Oslo.", name="Maya"),
        ]
    )
    assert [(t.source, t.relation, t.target) for t in OfflineLLM().extract_graph(mixed, Usage()).triplets] == [
        ("Anna", "lives_in", "Oslo")
    ]


def test_whole_sample_transcript() -> None:
    path = Path(graphmem.__file__).parent / "data" / "sample_transcript.jsonl"
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            source = ExtractionInput(messages=[Message(**json.loads(line))])
            found += [(t.source, t.relation, t.target) for t in OfflineLLM().extract_graph(source, Usage()).triplets]
    filler = re.compile(r"\b(?:by the way|too|as well|also|now|still|these days)\b|^(?:also|by the)\b", re.I)
    assert [target for _, _, target in found if "," in target or filler.search(target)] == []
    assert not {source for source, _, _ in found} & {"Paris", "Madrid"}  # assistant turns skipped
    assert found == [
        ("Maya", "lives_in", "Paris"),
        ("Maya", "allergic_to", "peanuts"),
        ("Maya", "works_at", "Lumen Labs"),
        ("Anna", "sister_of", "Maya"),
        ("Anna", "works_at", "Acme"),
        ("Anna", "lives_in", "Berlin"),
        ("Maya", "loves", "sushi"),
        ("Tom", "friend_of", "Maya"),
        ("Tom", "lives_in", "Lyon"),
        ("Maya", "lives_in", "London"),
        ("Maya", "learning", "cello"),
        ("Clara", "teacher_of", "Maya"),
        ("Clara", "lives_in", "London"),
        ("Maya", "works_at", "Northwind"),
        ("Maya", "likes", "hiking"),
        ("Anna", "works_at", "Siemens"),
        ("Anna", "lives_in", "Berlin"),
        ("Maya", "allergic_to", "peanuts"),
        ("Maya", "allergic_to", "shellfish"),
        ("Leo", "brother_of", "Maya"),
        ("Leo", "lives_in", "Madrid"),
        ("Leo", "works_at", "Iberia"),
    ]
