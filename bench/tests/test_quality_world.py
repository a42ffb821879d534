"""The world and questions of the retrieval-quality benchmark (bench/quality_world.py), checked
without Neo4j: seeded, every question answerable from the facts, every chain unambiguous in
the facts themselves, questions phrased in words rather than relation names, and the
look-alike names the benchmark relies on as distractors present."""

from __future__ import annotations

import re
from collections import defaultdict
from itertools import combinations, pairwise

import pytest

from bench.quality_world import ATTRIBUTES, KIN_TERMS, RELATIONS, build_world, make_questions

SIZE = 1500


@pytest.fixture(scope="module")
def world():
    return build_world(SIZE, seed=7)


@pytest.fixture(scope="module")
def questions(world):
    return make_questions(world, 60, seed=7)


def test_seeded(world, questions):
    again = build_world(SIZE, seed=7)
    assert again.facts == world.facts
    assert make_questions(again, 60, seed=7) == questions
    assert build_world(SIZE, seed=8).facts != world.facts
    assert make_questions(world, 60, seed=8) != questions


def test_size_and_facts(world):
    assert SIZE <= len(world.facts) < SIZE + 60  # whole families, ~30 facts each
    assert len({f.key for f in world.facts}) == len(world.facts)
    assert {f.relation for f in world.facts} == set(RELATIONS)
    for f in world.facts:
        assert f.source in f.sentence and f.target in f.sentence
        assert "_" not in f.sentence
    names = {f.source for f in world.facts} | {f.target for f in world.facts}
    assert len(names) == len({n.casefold() for n in names})  # one entity per name


def test_questions_per_hop(questions):
    assert [sum(q.hops == h for q in questions) for h in (1, 2, 3)] == [60, 60, 60]
    assert len({q.text for q in questions}) > 170


def _kin_from_facts(world):
    """name -> kin term -> relatives, read off the kin facts (gender from the world's people)."""
    kin: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for f in world.facts:
        s, o = f.source, f.target
        if f.relation in ("brother_of", "sister_of"):
            pairs = [(s, o), (o, s)]
            kind = "siblings"
        elif f.relation == "married_to":
            pairs, kind = [(s, o), (o, s)], "spouses"
        elif f.relation == "friend_of":
            pairs, kind = [(s, o), (o, s)], "friends"
        elif f.relation == "parent_of":
            kin[o]["parents"].add(s)
            kin[s]["children"].add(o)
            continue
        else:
            continue
        for a, b in pairs:
            kin[a][kind].add(b)
    for kinds in kin.values():
        for term, (gender, kind) in KIN_TERMS.items():
            kinds[term] = {r for r in kinds[kind] if gender is None or world.people[r].gender == gender}
    return kin


def test_every_question_is_answerable_and_unambiguous(world, questions):
    keys = {f.key for f in world.facts}
    kin = _kin_from_facts(world)
    values = defaultdict(list)
    for f in world.facts:
        values[(f.source, f.relation)].append(f.target)
    for q in questions:
        assert len(q.chain) == q.hops == len(q.path)
        assert set(q.chain) <= keys
        walked = [q.person]
        for term in q.path[:-1]:
            relatives = kin[walked[-1]][term]
            assert len(relatives) == 1, (q.text, term, relatives)
            walked.append(next(iter(relatives)))
        assert len(set(walked)) == len(walked), q.text  # never back to a person
        for (a, b), fact in zip(pairwise(walked), q.chain):
            assert {fact[0], fact[2]} == {a, b}
        relation = q.path[-1]
        assert values[(walked[-1], relation)] == [q.target[2]]
        assert q.target == (walked[-1], relation, q.target[2])
        assert q.person in q.text
        for term in q.path[:-1]:
            assert re.search(rf"\b{term}\b", q.text)


def test_kin_hops_go_both_ways(questions):
    directions = [d for q in questions if q.hops > 1 for d in q.forward]
    assert 0.2 < sum(directions) / len(directions) < 0.8
    kin_facts = {fact[1] for q in questions for fact in q.chain[:-1]}
    assert {"brother_of", "sister_of", "married_to", "parent_of"} <= kin_facts
    assert {q.path[-1] for q in questions} == set(ATTRIBUTES)


def test_questions_never_name_relations(questions):
    for q in questions:
        assert "_" not in q.text
        for relation in RELATIONS:
            assert not re.search(rf"\b{relation}\b", q.text, re.IGNORECASE), q.text


def test_lookalike_distractors(world):
    people = list(world.people.values())
    by_first = defaultdict(list)
    for p in people:
        by_first[p.first].append(p.surname)
    assert sum(len(set(s)) > 1 for s in by_first.values()) > 20  # a first name shared across surnames

    def one_letter_apart(a: str, b: str) -> bool:
        if abs(len(a) - len(b)) > 1 or a == b:
            return False
        if len(a) == len(b):
            return sum(x != y for x, y in zip(a, b)) == 1
        short, long = sorted((a, b), key=len)
        return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))

    namesakes = [
        (a, b) for surnames in by_first.values() for a, b in combinations(set(surnames), 2) if one_letter_apart(a, b)
    ]
    assert len(namesakes) > 5  # "Lena Fischer" and "Lena Fisher"
    surnames = {p.surname for p in people}
    assert sum(any(one_letter_apart(s, t) for t in surnames) for s in surnames) > 20
    unrelated_same_surname = [
        (a, b)
        for a, b in combinations(people, 2)
        if a.surname == b.surname and frozenset((a.name, b.name)) not in world.links
    ]
    assert unrelated_same_surname
    employers = defaultdict(int)
    for f in world.facts:
        if f.relation == "works_at":
            employers[f.target] += 1
    assert max(employers.values()) >= 10
