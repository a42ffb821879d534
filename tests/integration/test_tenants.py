"""Many tenants in one database, on the real Neo4j: an add links a look-alike name ("Alice") to
its scope's node ("Alice Smith") however many other tenants hold an "Alice" nearer to it.

The matcher runs without the scope cache (which would rank the scope in this process) and with
a small exact-scan bound, so the scope is searched through the shared vector index. On a server
whose vector indexes filter inside (Neo4j 2026.01+, cypher/filtered/), the search is restricted
to the scope and finds the node. On 5.26 the index's top k is filtered afterwards: with k capped
below the crowd, the crowd fills it, and the add makes a duplicate; that is the documented limit
of the 5.26 line (README, "Many tenants"), pinned here so that a change of it is seen.
"""

from __future__ import annotations

import numpy as np
import pytest

from graphmem import GraphMemory, Scope
from graphmem.store.ids import entity_id
from graphmem.store.queries import Queries

pytestmark = pytest.mark.neo4j

CROWD = 400


def _crowd_rows(embedder, prefix: str, text: str, *, seed: int) -> list[dict]:
    """CROWD tenants' rows (user_id, scope_key, embedding): `text` embedded by MiniLM, each
    tenant's copy slightly perturbed."""
    rng = np.random.default_rng(seed)
    base = np.asarray(embedder.embed([text])[0], dtype=np.float32)
    rows = []
    for i in range(CROWD):
        vector = base + rng.normal(0, 0.01, base.shape).astype(np.float32)
        scope = Scope(user_id=f"{prefix}-{i}")
        rows.append(
            {"user_id": scope.user_id, "scope_key": scope.key, "embedding": (vector / np.linalg.norm(vector)).tolist()}
        )
    return rows


@pytest.fixture
def crowd(store, embedder, new_user) -> str:
    """CROWD other tenants, each with an "Alice" node (its vector MiniLM's, slightly perturbed);
    returns the user id prefix they share (deleted afterwards with the test's users)."""
    prefix = new_user("crowd")
    rows = _crowd_rows(embedder, prefix, "Alice", seed=1)
    for row in rows:
        row["id"] = entity_id(Scope(user_id=row["user_id"]), "alice")
    store.run_text(
        "UNWIND $rows AS r CREATE (e:Entity:Person {id: r.id}) "
        "SET e.name = 'Alice', e.normalized = 'alice', e.type = 'Person', e.user_id = r.user_id, "
        "e.scope_key = r.scope_key, e.mentions = 1, e.created_at = datetime() "
        "WITH e, r CALL db.create.setNodeVectorProperty(e, 'embedding', r.embedding)",
        {"rows": rows},
        write=True,
    )
    store.run_text("CALL db.awaitIndexes(300)")
    yield prefix
    store.run_text("MATCH (e:Entity) WHERE e.user_id STARTS WITH $p DETACH DELETE e", {"p": prefix + "-"}, write=True)


def test_a_look_alike_name_finds_its_scopes_node_among_other_tenants(make_memory, store, crowd, new_user) -> None:
    memory: GraphMemory = make_memory()
    memory.cache = None  # no scope cache: Neo4j ranks the neighbours
    memory.writer.cache = None
    memory.writer.matcher.scan_max = 10  # the scope is "large": searched through the shared index
    memory.writer.matcher.k_max = 100  # below the crowd: 5.26's scaled k is capped under it
    user = new_user()
    people = [f"Person {chr(65 + i)}{chr(65 + j)}" for i in range(4) for j in range(4)]
    memory.add_triplets(
        [{"source": "Alice Smith", "source_type": "Person", "relation": "lives_in", "target": "Paris"}]
        + [{"source": p, "source_type": "Person", "relation": "works_at", "target": "Acme"} for p in people],
        user_id=user,
    )
    result = memory.add_triplets(
        [{"source": "Alice", "source_type": "Person", "relation": "lives_in", "target": "Berlin"}], user_id=user
    )
    names = {e["name"] for e in store.run_text("MATCH (e:Entity {user_id: $u}) RETURN e.name AS name", {"u": user})}
    if Queries(store).vector_filters():
        assert [(f.source, f.target) for f in result.added] == [("Alice Smith", "Berlin")]
        assert "Alice" not in names  # no duplicate
    else:  # the 5.26 line's limit: the crowd fills the capped top k
        assert [(f.source, f.target) for f in result.added] == [("Alice", "Berlin")]
        assert "Alice" in names


@pytest.fixture
def fact_crowd(store, embedder, new_user) -> str:
    """CROWD other tenants, each holding the fact "Alice lives in Rome" and the turn saying it,
    their vectors near the query's (MiniLM's, slightly perturbed)."""
    prefix = new_user("fact-crowd")
    rows = _crowd_rows(embedder, prefix, "Alice lives in Rome", seed=2)
    store.run_text(
        "UNWIND $rows AS r "
        "CREATE (s:Entity {id: r.user_id + '-alice', name: 'Alice', normalized: 'alice', type: 'Person', "
        "  user_id: r.user_id, scope_key: r.scope_key, mentions: 1, created_at: datetime()}) "
        "CREATE (t:Entity {id: r.user_id + '-rome', name: 'Rome', normalized: 'rome', type: 'City', "
        "  user_id: r.user_id, scope_key: r.scope_key, mentions: 1, created_at: datetime()}) "
        "CREATE (s)-[f:FACT {id: r.user_id + '-f', relation: 'lives_in', fact: 'Alice lives in Rome', "
        "  user_id: r.user_id, scope_key: r.scope_key, mentions: 1, valid_from: datetime(), created_at: datetime()}]->(t) "
        "CREATE (m:Message {id: r.user_id + '-m', content: 'Alice lives in Rome', role: 'user', "
        "  user_id: r.user_id, scope_key: r.scope_key, timestamp: datetime(), created_at: datetime(), "
        "  stems: ' alic live rome '}) "
        "WITH f, m, r CALL db.create.setRelationshipVectorProperty(f, 'embedding', r.embedding) "
        "CALL db.create.setNodeVectorProperty(m, 'embedding', r.embedding)",
        {"rows": rows},
        write=True,
    )
    store.run_text("CALL db.awaitIndexes(300)")
    yield prefix
    store.run_text(
        "MATCH (e:Entity|Message) WHERE e.user_id STARTS WITH $p DETACH DELETE e", {"p": prefix + "-"}, write=True
    )


def test_a_search_finds_its_scopes_facts_and_turns_among_other_tenants(
    make_memory, store, crowd, fact_crowd, new_user
) -> None:
    """Facts and turns of a "large" scope (searched through the shared indexes), with 400 other
    tenants' look-alikes nearer to the query; the scope by each of its ids, as searches give it."""
    memory: GraphMemory = make_memory()
    memory.cache = memory.retriever.cache = None  # Neo4j ranks
    memory.retriever.scan_max = 10  # the scope is "large"
    memory.retriever.k_max = 100  # below the crowd: 5.26's scaled k is capped under it
    user = new_user()
    ids = {"user_id": user, "agent_id": f"{user}-agent", "run_id": f"{user}-run"}
    memory.add_triplets(
        [{"source": "Alice Smith", "source_type": "Person", "relation": "lives_in", "target": "Rome"}]
        + [
            {"source": f"Person {i}", "source_type": "Person", "relation": "works_at", "target": "Acme"}
            for i in range(16)
        ],
        **ids,
    )
    memory.add([f"Person {i} works at Acme." for i in range(12)] + ["Alice Smith lives in Rome."], **ids)
    filters = Queries(store).vector_filters()
    for given in ({"user_id": user}, {"agent_id": ids["agent_id"]}, {"run_id": ids["run_id"]}, ids):
        hits = memory.search("Alice lives in Rome", mode="triplet", limit=5, **given)
        facts = [(h.fact.source, h.fact.target) for h in hits]
        turns = [
            e.episode.content for e in memory.search("Alice lives in Rome", mode="episode", limit=5, **given).episodes
        ]
        # a name the scope does not hold: the walk starts from the nearest names, which the crowd's
        # "Alice" nodes crowd out of the shared index's capped top k
        walked = [(h.fact.source, h.fact.target) for h in memory.search("Alicia", mode="entity", limit=5, **given)]
        if filters:
            assert ("Alice Smith", "Rome") in walked, given
            assert ("Alice Smith", "Rome") in facts, given
            assert "Alice Smith lives in Rome." in turns, given
        else:  # the 5.26 line's limit: the crowd fills the capped top k
            assert ("Alice Smith", "Rome") not in facts, given
            assert "Alice Smith lives in Rome." not in turns, given
