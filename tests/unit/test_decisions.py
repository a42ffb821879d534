"""The matcher's and the conflict detector's decisions, pure: rows as the statements return
them, no Neo4j (graphmem/write/match.decide, graphmem/write/conflicts.classify)."""

from __future__ import annotations

from graphmem import Scope
from graphmem._models import Entity, Triplet
from graphmem.store.ids import entity_id
from graphmem.write.conflicts import classify, similar_relations
from graphmem.write.match import decide

SCOPE = Scope(user_id="u1")
MATCH = {"threshold": 0.8, "strict_threshold": 0.975}  # the matcher's defaults


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
    # scores are Neo4j's (1 + cosine) / 2: 0.96 is cosine 0.92, where MiniLM puts relatives'
    # names ("Carlos Nakamura" / "Rafael Nakamura": 0.944)
    found = {"near": [near("alice jones", 0.96)]}
    match = decide(SCOPE, Entity(name="Alice Smith", type="Person"), "alice smith", found, **MATCH)
    assert not match.matched and match.node_id == entity_id(SCOPE, "alice smith")
    company = decide(
        SCOPE,
        Entity(name="Acme Corporation", type="Organization"),
        "acme corporation",
        {"near": [near("acme corp", 0.99, "Organization")]},
        **MATCH,
    )
    assert company.matched and company.node_id == "node-acme corp"


def test_nearly_identical_vectors_merge_people_only_when_the_names_are_spelled_alike():
    relative = {"near": [near("rafael nakamura", 0.99)]}
    assert not decide(
        SCOPE, Entity(name="Carlos Nakamura", type="Person"), "carlos nakamura", relative, **MATCH
    ).matched
    typo = {"near": [near("carlos nakamura", 0.99)]}
    assert decide(SCOPE, Entity(name="Carlos Nakamure", type="Person"), "carlos nakamure", typo, **MATCH).matched
    # a person on either side is enough: an untyped mention of a person's name is not merged on its vector
    untyped = decide(SCOPE, Entity(name="Carlos Nakamura", type="Entity"), "carlos nakamura", relative, **MATCH)
    assert not untyped.matched


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


def test_the_source_facts_left_in_neo4j_are_never_ones_classify_keeps():
    """cypher/conflict_candidates sends a source's fact only if its relation is among
    similar_relations, it links the same two nodes, or its relation is not known yet: every
    candidate classify finds in all the rows is still found in those sent."""
    rows = [
        stored("same-rel", "ana", "lives_in", "oslo"),
        stored("similar-rel", "ana", "resides_in", "lima"),
        stored("far-rel", "ana", "likes", "pizza"),
        stored("far-rel-2", "ana", "visited", "paris"),
        stored("same-ends", "ana", "visited", "rome"),
        stored("restated", "ana", "lives_in", "rome"),
    ]
    for known in ([], ["likes"], ["likes", "resides_in", "visited"], sorted(VECTORS)):
        similar = similar_relations(NEW.relation, known, VECTORS, 0.75)
        assert similar[0] == "lives_in" and "likes" not in similar
        sent = [
            r
            for r in rows
            if r["fact"]["relation"] in similar
            or r["fact"]["target_id"] == "rome"
            or r["fact"]["relation"] not in known
        ]
        whole, light = (classify(0, NEW, ("ana", "rome"), x, VECTORS, 0.75) for x in (rows, sent))
        assert light == whole, known
        if known == sorted(VECTORS):
            assert len(sent) == 4  # the far relations stayed in Neo4j


class CountingLLM:
    """Answers every resolve item with invalidate of its first candidate, and counts calls."""

    def __init__(self) -> None:
        self.calls = 0

    def resolve(self, request, usage):
        from graphmem._models import ResolutionDecision, ResolutionResult

        self.calls += 1
        return ResolutionResult(
            decisions=[
                ResolutionDecision(index=i.index, action="invalidate", existing_ids=[i.candidates[0].id])
                for i in request.items
            ]
        )


def test_an_add_matched_again_asks_the_llm_only_about_candidates_that_changed():
    from graphmem._models import Usage
    from graphmem.write.resolve import UpdateResolver

    llm = CountingLLM()
    resolver = UpdateResolver(llm)
    answers: dict = {}
    oslo = [stored("oslo", "ana", "lives_in", "oslo")]
    first = classify(0, NEW, ("ana", "rome"), oslo, VECTORS, 0.75)
    assert resolver.resolve([first], Usage(), answers)[0].existing_ids == ["oslo"] and llm.calls == 1
    # the same candidates read again (the scope changed elsewhere): decided without a call
    decided, ask = resolver.decide([classify(0, NEW, ("ana", "rome"), oslo, VECTORS, 0.75)], answers)
    assert not ask and decided[0].existing_ids == ["oslo"]
    # another writer stored Lima meanwhile: a new question
    lima = oslo + [stored("lima", "ana", "lives_in", "lima")]
    decided, ask = resolver.decide([classify(0, NEW, ("ana", "rome"), lima, VECTORS, 0.75)], answers)
    assert [f.id for f in ask[0].candidates] == ["oslo", "lima"] and not decided
    # and a candidate whose sentence was rewritten in place is a new question too
    rewritten = [stored("oslo", "ana", "lives_in", "oslo")]
    rewritten[0]["fact"]["fact"] = "ana lives in oslo, norway"
    assert resolver.decide([classify(0, NEW, ("ana", "rome"), rewritten, VECTORS, 0.75)], answers)[1]
    # restatements and facts without candidates never need an answer
    restated = classify(0, NEW, ("ana", "rome"), [stored("f1", "ana", "lives_in", "rome")], VECTORS, 0.75)
    assert resolver.decide([restated], {})[1] == [] and llm.calls == 1


def test_the_llm_sees_the_most_telling_candidates_only():
    from graphmem.write.resolve import MAX_CANDIDATES, telling

    rows = [stored(f"knows-{i}", "ana", "lives_in", f"town{i}") for i in range(30)]
    for i, row in enumerate(rows):
        row["fact"]["updated_at"] = f"2026-01-{i + 1:02d}T00:00:00Z"
    rows += [stored("pair", "rome", "visited", "ana"), stored("near", "bo", "visited", "rome", score=0.9)]
    found = classify(0, NEW, ("ana", "rome"), rows, VECTORS, 0.75)
    shown = [f.id for f in telling(found.candidates)]
    assert len(found.candidates) == 32 and len(shown) == MAX_CANDIDATES
    # the fact between the same two nodes first, then the latest values of the same relation
    assert shown == ["pair"] + [f"knows-{i}" for i in range(29, 29 - MAX_CANDIDATES + 1, -1)]
    assert [f.id for f in telling(found.candidates, limit=40)][-1] == "near"


def test_the_resolver_sees_the_new_triplet_named_as_the_nodes_it_matched():
    from graphmem._models import Usage
    from graphmem.llm import OfflineLLM
    from graphmem.write.resolve import UpdateResolver

    # "Alice" matched the scope's "Alice Smith" node (id alice-smith): she moved
    said = Triplet(source="Alice", relation="lives_in", target="Berlin")
    paris = [stored("paris", "Alice Smith", "lives_in", "Paris")]
    paris[0]["fact"]["source_id"] = "alice-smith"
    found = classify(0, said, ("alice-smith", "berlin"), paris, VECTORS, 0.75)
    decided, ask = UpdateResolver(OfflineLLM()).decide([found], {})
    new = ask[0].new
    assert (new.source, new.target, new.sentence) == ("Alice Smith", "Berlin", "Alice lives in Berlin")
    # so a resolver comparing names (the offline one) closes the old city, as an LLM would
    assert UpdateResolver(OfflineLLM()).resolve([found], Usage())[0].action == "invalidate"
    assert found.triplet.source == "Alice"  # the triplet itself is unchanged
