"""Associative recall's pure decisions (graphmem/search/associative.py): seeds, look-alike names,
aspects and how a fact's wording answers them. No Neo4j; the searches on real data are in
tests/integration/test_associative.py."""

from __future__ import annotations

from graphmem.search.associative import (
    LOOKALIKE_NAME,
    GraphReader,
    named_weights,
    relation_usage,
    walk_seeds,
)


def seed(node: str, name: str, score: float) -> dict:
    return {"id": node, "normalized": name, "score": score}


NAMED = [seed("viktor", "viktor frank", 1.0), seed("ben", "ben frank", 0.5), seed("viktor-s", "viktor schulz", 0.5)]


def test_a_look_alike_of_a_name_given_in_full_is_damped():
    weights = named_weights(NAMED, ["where", "viktor", "frank", "based"])
    assert weights["viktor"] == 1.0
    # Ben Frank and Viktor Schulz matched only words of "Viktor Frank"
    assert weights["ben"] == weights["viktor-s"] == 0.5 * LOOKALIKE_NAME


def test_a_partial_name_alone_keeps_its_weight():
    # "where does Frank work?": no name is given in full, every Frank is a candidate
    named = [seed("ben", "ben frank", 0.5), seed("nina", "nina frank", 0.5)]
    assert named_weights(named, ["frank", "work"]) == {"ben": 0.5, "nina": 0.5}
    # a second name in the query that is not part of the full one keeps its weight
    named = [seed("viktor", "viktor frank", 1.0), seed("anna", "anna weber", 0.5)]
    assert named_weights(named, ["viktor", "frank", "weber"])["anna"] == 0.5


def test_hits_seed_below_a_named_entity():
    seeds = walk_seeds(NAMED[:1], {"berlin": 0.6, "viktor": 0.3}, ["viktor", "frank"])
    assert seeds == {"viktor": 1.0, "berlin": 0.3}
    assert walk_seeds([], {"berlin": 0.6}, ["berlin"]) == {"berlin": 0.6}


def test_a_relation_answers_the_words_its_facts_say():
    links = [
        ("lives_in", {"viktor", "live", "vienna"}),
        ("lives_in", {"ben", "base", "stockholm"}),
        ("lives_in", {"nina", "flat", "oslo"}),
        ("works_at", {"ben", "work", "base", "siemen"}),
    ]
    usage = relation_usage(links, ["base", "work"])
    assert usage["lives_in"] == [2 / 3, 0.0]
    assert usage["works_at"] == [1.0, 1.0]


def row(fact_id: str, source: str, target: str, relation: str, text: str, sims: list[float]) -> dict:
    return {
        "id": fact_id,
        "source_id": source,
        "target_id": target,
        "relation": relation,
        "text": text,
        "source_type": "Person",
        "target_type": "City",
        "similarity": 0.8,
        "aspect_sims": sims,
        "source_degree": 3,
        "target_degree": 40,
    }


def test_the_reader_lets_a_fact_answer_in_its_relation_s_words():
    # "where is Viktor Frank based?": Viktor's fact says "lives in", another's says "based in"
    reader = GraphReader(["viktor", "frank", "based"], NAMED[:1])
    assert reader.aspects == ["based"] and reader.stems == ["base"]
    rows = [
        row("v", "viktor", "vienna", "lives_in", "Viktor Frank lives in Vienna.", [0.57]),
        row("b", "ben", "stockholm", "lives_in", "Ben Frank is based in Stockholm.", [0.63]),
    ]
    far = [0.0] * 4
    edges, degree = reader.read(rows, {"based": [1.0, 0.0, 0.0, 0.0], "lives in": far})
    by_id = {e.fact_id: e for e in edges}
    assert by_id["b"].aspects == (1.0,)  # says it
    assert by_id["v"].aspects == (1.0,)  # half of its relation's facts say it: 2 x 1/2
    assert degree == {"viktor": 3, "vienna": 40, "ben": 3, "stockholm": 40}
    assert by_id["v"].relation == "lives_in" and set(reader.links) == {"v", "b"}
    # a fact read again (from its other end) is one link
    reader.read(rows[:1], {"based": [1.0, 0.0, 0.0, 0.0], "lives in": far})
    assert len(reader.links) == 2
