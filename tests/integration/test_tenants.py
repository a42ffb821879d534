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


@pytest.fixture
def crowd(store, embedder, new_user) -> str:
    """CROWD other tenants, each with an "Alice" node (its vector MiniLM's, slightly perturbed);
    returns the user id prefix they share (deleted afterwards with the test's users)."""
    prefix = new_user("crowd")
    rng = np.random.default_rng(1)
    base = np.asarray(embedder.embed(["Alice"])[0], dtype=np.float32)
    rows = []
    for i in range(CROWD):
        vector = base + rng.normal(0, 0.01, base.shape).astype(np.float32)
        scope = Scope(user_id=f"{prefix}-{i}")
        rows.append(
            {
                "id": entity_id(scope, "alice"),
                "user_id": scope.user_id,
                "scope_key": scope.key,
                "embedding": (vector / np.linalg.norm(vector)).tolist(),
            }
        )
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
