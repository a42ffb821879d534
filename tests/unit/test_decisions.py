"""The matcher's and the conflict detector's decisions, pure: rows as the statements return
them, no Neo4j (graphmem/_match.decide, graphmem/_conflicts.classify)."""

from __future__ import annotations

from graphmem import Scope
from graphmem._conflicts import classify
from graphmem._ids import entity_id
from graphmem._match import decide
from graphmem._models import Entity, Triplet

SCOPE = Scope(user_id="u1")
MATCH = {"threshold": 0.8, "strict_threshold": 0.95}


def near(name: str, score: float, type_: str = "Person") -> dict:
    return {"id": f"node-{name}", "name": name.title(), "normalized": name, "type": type_, "score": score}


def test_an_exact_name_is_the_same_node():
    found = {"exact": {"id": "node-alice", "name": "Alice"}, "near": [near("bob", 0.99)]}
    match = decide(SCOPE, Entity(name="alice", type="Person"), "alice", found, **MATCH)
    assert (match.matched, match.node_id, match.matched_name, match.score) == (True, "node-alice", "Alice", 1.0)


def test_a_name_contained_in_the_other_matches_above_the_threshold():
    found = {"near": [near("alice smith", 0.85)]}
    match = decide(SCOPE, Entity(name="Alice", type="Person"), "alice", found, **MATCH)
    assert match.matched and match.node_id == "node-alice smith"


def test_look_alike_names_stay_two_people_unless_nearly_identical():
    found = {"near": [near("alice jones", 0.9)]}
    match = decide(SCOPE, Entity(name="Alice Smith", type="Person"), "alice smith", found, **MATCH)
    assert not match.matched and match.node_id == entity_id(SCOPE, "alice smith")
    strict = decide(
        SCOPE, Entity(name="Alice Smith", type="Person"), "alice smith", {"near": [near("alice jones", 0.96)]}, **MATCH
    )
    assert strict.matched


def test_numbered_names_never_match_however_close():
    found = {"near": [near("room 102", 0.99, "Place")]}
    assert not decide(SCOPE, Entity(name="Room 101", type="Place"), "room 101", found, **MATCH).matched


def test_incompatible_types_and_weak_scores_do_not_match():
    person = Entity(name="Paris", type="Person")
    assert not decide(SCOPE, person, "paris", {"near": [near("paris", 0.99, "City")]}, **MATCH).matched
    assert decide(
        SCOPE, Entity(name="Paris", type="Town"), "paris", {"near": [near("paris", 0.99, "City")]}, **MATCH
    ).matched
    assert not decide(SCOPE, Entity(name="Al", type="Person"), "al", {"near": [near("al b", 0.7)]}, **MATCH).matched


def stored(fid: str, source: str, relation: str, target: str, score: float | None = None) -> dict:
    fact = {
        "id": fid,
        "source": source,
        "source_type": "Person",
        "source_id": source,
        "relation": relation,
        "target": target,
        "target_type": "City",
        "target_id": target,
        "fact": f"{source} {relation} {target}",
        "valid_from": "2026-01-01T00:00:00Z",
        "created_at": "2026-01-01T00:00:00Z",
    }
    return {"fact": fact, "score": score}


VECTORS = {"lives_in": [1.0, 0.0], "resides_in": [0.9, 0.1], "likes": [0.0, 1.0], "visited": [0.5, 0.5]}
NEW = Triplet(source="ana", relation="lives_in", target="rome")


def test_the_same_ends_and_relation_is_restated():
    found = classify(0, NEW, ("ana", "rome"), [stored("f1", "ana", "lives_in", "rome")], VECTORS, 0.75)
    assert found.restated is not None and found.restated.id == "f1" and not found.candidates


def test_candidates_are_named_by_why():
    rows = [
        stored("same-rel", "ana", "lives_in", "oslo"),
        stored("similar-rel", "ana", "resides_in", "lima"),
        stored("far-rel", "ana", "likes", "pizza"),
        stored("same-pair", "rome", "visited", "ana"),
        stored("similar-fact", "bo", "visited", "rome", score=0.9),
        stored("same-rel", "ana", "lives_in", "oslo"),  # a fact found twice counts once
    ]
    found = classify(0, NEW, ("ana", "rome"), rows, VECTORS, 0.75)
    reasons = [(c.fact.id, c.reason) for c in found.candidates]
    assert reasons == [
        ("same-rel", "same_relation"),
        ("similar-rel", "similar_relation"),
        ("same-pair", "same_pair"),
        ("similar-fact", "similar_fact"),
    ]
    assert found.restated is None
    assert found.candidates[3].similarity == 0.9
