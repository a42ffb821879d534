"""An add's nearest nodes and facts ranked from this process's search cache
(graphmem/cache/near.py) against the real Neo4j and MiniLM: the same candidates as the scan and
the shared indexes give, and the statements' clock check, which sends the add back to Neo4j's
own ranking when another process has written to the scope since the cache last saw it."""

from __future__ import annotations

from typing import Any

import pytest

from graphmem import GraphMemory, Scope, Usage
from graphmem._models import Entity, Triplet, normalize_name
from graphmem.store.ids import entity_id, scope_clock_id
from graphmem.store.queries import IndexWidth

pytestmark = pytest.mark.neo4j

PEOPLE = ["Alice Smith", "Bob Jones", "Carla Diaz", "Dmitri Volkov", "Erin O'Brien", "Farid Haddad"]
PLACES = ["Oslo", "Lisbon", "Kyoto", "Nairobi", "Quito", "Hanoi"]
WORK = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay"]


def _triplet(source: str, relation: str, target: str) -> dict[str, Any]:
    types = {"lives_in": "City", "works_at": "Company", "knows": "Person"}
    return {"source": source, "source_type": "Person", "relation": relation, "target": target,
            "target_type": types[relation], "fact": f"{source} {relation.replace('_', ' ')} {target}."}  # fmt: skip


def _world(memory: GraphMemory, user: str) -> Scope:
    """Six people with homes, employers and friends, one move (an invalidated fact); then the
    cache is left to load the scope and hold it."""
    for i, person in enumerate(PEOPLE):
        memory.add_triplets(
            [
                _triplet(person, "lives_in", PLACES[i]),
                _triplet(person, "works_at", WORK[i]),
                _triplet(person, "knows", PEOPLE[(i + 1) % len(PEOPLE)]),
            ],
            user_id=user,
        )
    memory.add_triplets([_triplet("Alice Smith", "lives_in", "Quito")], user_id=user)
    assert memory.cache is not None
    memory.cache.wait()
    scope = Scope(user_id=user)
    assert memory.cache.held(scope) is not None
    return scope


def _spy(memory: GraphMemory, name: str) -> list[bool]:
    """Records, per call of the statement, whether it ranked from the cache (`held`)."""
    seen: list[bool] = []
    original = getattr(memory.queries, name)

    def spied(*args: Any, **kwargs: Any) -> Any:
        rows = original(*args, **kwargs)
        seen.extend(bool(r["held"]) for r in rows[:1])
        return rows

    setattr(memory.queries, name, spied)
    return seen


ENTITIES = [Entity(name=n, type=t) for n, t in
            [("Alice", "Person"), ("Dmitri", "Person"), ("Carla Diaz", "Person"), ("Acme Corp", "Company"),
             ("Kyoto City", "City"), ("Zed Unknown", "Person")]]  # fmt: skip


def test_the_matcher_ranks_the_same_neighbours_from_the_cache(memory: GraphMemory, new_user):
    scope = _world(memory, new_user())
    vectors = memory.embedder.embed([e.name for e in ENTITIES])
    held = memory.cache.held(scope)
    seen = _spy(memory, "match_entities")
    cached = memory.writer.matcher.match(scope, ENTITIES, vectors, Usage(), held=held)
    scanned = memory.writer.matcher.match(scope, ENTITIES, vectors, Usage(), held=None)
    assert seen == [True, False]

    def decided(matches):
        return {k: (m.node_id, m.matched_name) for k, m in matches.nodes.items()}

    assert decided(cached) == decided(scanned) and cached.scope_version == scanned.scope_version
    assert decided(cached)["alice"][1] == "Alice Smith"
    for name, match in cached.nodes.items():  # scores within float32 rounding of Neo4j's
        assert abs((match.score or 0) - (scanned.nodes[name].score or 0)) < 1e-4, name
    # and what the decisions were taken from: the same nodes, scores within float32 rounding
    probes = [{"i": i, "normalized": normalize_name(e.name), "id": entity_id(scope, normalize_name(e.name)),
               "embedding": v, "near": near} for i, (e, v, near) in
              enumerate(zip(ENTITIES, vectors, held.nearest_entities(vectors, 5)))]  # fmt: skip
    matcher = memory.writer.matcher
    width = IndexWidth(scan_max=matcher.scan_max, k_min=matcher.k, k_max=matcher.k_max, want=matcher.k)
    rows = {}
    for path, given in (("cache", held), ("scan", None)):
        found = memory.queries.match_entities(scope, probes, keep=5, width=width, held=given, usage=Usage())
        rows[path] = {r["i"]: [(n["id"], n["score"]) for n in r["near"]] for r in found}
    assert {i: [n for n, _ in near] for i, near in rows["cache"].items()} == {
        i: [n for n, _ in near] for i, near in rows["scan"].items()
    }
    for i, near in rows["cache"].items():
        assert all(abs(a - b) < 1e-4 for (_, a), (_, b) in zip(near, rows["scan"][i], strict=True))
    assert any(rows["cache"].values())  # names without their node did get neighbours


def test_the_detector_finds_the_same_candidates_from_the_cache(memory: GraphMemory, new_user):
    scope = _world(memory, new_user())
    new = [
        Triplet(source="Bob Jones", relation="lives_in", target="Hanoi", fact="Bob Jones lives in Hanoi."),
        Triplet(source="Farid Haddad", relation="employed_by", target="Acme", fact="Farid Haddad is employed by Acme."),
        # another node, but a sentence nearly that of Alice Smith's current home: a similar fact
        Triplet(source="A. Smith", relation="lives_in", target="Quito", fact="A. Smith lives in Quito."),
        Triplet(source="Gina Park", relation="resides_in", target="Oslo", fact="Gina Park resides in Oslo."),
    ]
    ends = [(entity_id(scope, normalize_name(t.source)), entity_id(scope, normalize_name(t.target))) for t in new]
    vectors = memory.embedder.embed([t.fact for t in new])
    seen = _spy(memory, "conflict_candidates")
    held = memory.cache.held(scope)
    cached = memory.writer.detector.detect(scope, new, ends, vectors, Usage(), held=held)
    indexed = memory.writer.detector.detect(scope, new, ends, vectors, Usage(), held=None)
    assert seen == [True, False]

    def found(sets):
        return [sorted((c.fact.id, c.reason) for c in s.candidates) for s in sets]

    def scores(sets):
        return sorted((c.fact.id, c.similarity or 0.0) for s in sets for c in s.candidates)

    assert found(cached) == found(indexed)
    # the index scores its quantized vectors: within ~1e-3 of the exact cosine the cache gives
    assert all(abs(a[1] - b[1]) < 2e-3 for a, b in zip(scores(cached), scores(indexed), strict=True))
    assert any(c.reason == "similar_fact" for s in cached for c in s.candidates)  # the nearest facts did count
    # the move's old home is invalid: never a candidate
    assert all(c.fact.valid_to is None for s in cached for c in s.candidates)


def test_an_add_after_another_process_wrote_is_ranked_by_neo4j(make_memory, new_user):
    """Two GraphMemory instances stand for two processes: the second writes to the scope, so
    the first one's cache holds it a revision behind. Its next add must not rank from it."""
    first, second = make_memory(), make_memory()
    user = new_user()
    scope = _world(first, user)
    seen, conflicts = _spy(first, "match_entities"), _spy(first, "conflict_candidates")
    first.add_triplets([_triplet("Alice", "knows", "Erin O'Brien")], user_id=user)
    assert seen == [True] and conflicts == [True]  # unchanged since: ranked from the cache
    second.add_triplets([_triplet("Robert Jones", "lives_in", "Oslo")], user_id=user)
    [clock] = first.store.run_text(
        "MATCH (c:GraphmemScope {key: $key}) RETURN c.revision AS revision", {"key": scope_clock_id(scope)}
    )
    assert first.cache.held(scope).revision == clock["revision"] - 1
    first.add_triplets([_triplet("Robert", "works_at", "Globex")], user_id=user)
    assert seen == [True, False]  # the clock moved: Neo4j's scan answered, and it holds Robert Jones
    assert conflicts == [True, False]
    names = [
        r["name"]
        for r in first.store.run_text("MATCH (e:Entity {user_id: $u}) RETURN e.normalized AS name", {"u": user})
    ]
    assert sorted(n for n in names if n.startswith(("alice", "robert"))) == ["alice smith", "robert jones"]
    second.cache.close()  # the store is shared with the fixtures: left open
