"""The schema against the real Neo4j: idempotent apply, the indexes search relies on, the
dimension check, and a smoke test that the vector and full-text indexes answer on this server.

The database is shared with the other tests: nothing here drops or recreates an index.
"""

from __future__ import annotations

import re

import pytest

from graphmem import SchemaError
from graphmem.store.queries import Queries
from graphmem.store.schema import (
    FULLTEXT_INDEXES,
    SCHEMA_VERSION,
    VECTOR_INDEXES,
    SchemaStatus,
    apply_schema,
    check_dimensions,
    read_status,
    vector_filters_supported,
)
from graphmem.store.statements import statements

pytestmark = pytest.mark.neo4j

#: every index and constraint cypher/schema.cypher and schema_vector.cypher create, by name
OWN_NAMES = sorted(
    re.search(r"CREATE (?:\w+ )?(?:INDEX|CONSTRAINT) (\w+) IF NOT EXISTS", s).group(1)
    for s in statements("schema") + statements("schema_vector")
)
#: what a vector index filters on besides its embedding, where the server can (Neo4j 2026.01+)
FILTERS = {
    "entity_embedding": ["scope_key", "user_id", "agent_id", "run_id"],
    "fact_embedding": ["scope_key", "user_id", "agent_id", "run_id", "valid_to"],
    "message_embedding": ["scope_key", "user_id", "agent_id", "run_id"],
}


def _indexes(store) -> list[dict]:
    # lastRead / readCount change whenever a test reads; everything else must stay put
    return store.run_text(
        "SHOW INDEXES YIELD name, id, type, entityType, labelsOrTypes, properties, state, indexProvider, options "
        "WHERE name IN $names RETURN * ORDER BY name",
        {"names": OWN_NAMES},
    )


def _constraints(store) -> list[dict]:
    return store.run_text(
        "SHOW CONSTRAINTS YIELD name, id, type, entityType, labelsOrTypes, properties, ownedIndex "
        "WHERE name IN $names RETURN * ORDER BY name",
        {"names": OWN_NAMES},
    )


def _record(store) -> dict:
    return store.run_text(
        "MATCH (s:GraphmemSchema {name: 'graphmem'}) RETURN properties(s) AS record, count(*) AS nodes"
    )[0]


def _configured(store) -> tuple[int, str]:
    """The embedder the shared test database was built with (the session's MiniLM)."""
    status = read_status(Queries(store))
    return status.dim or 384, status.model or "all-MiniLM-L6-v2"


def test_apply_schema_twice_changes_nothing_the_second_time(store):
    dim, model = _configured(store)
    first = apply_schema(Queries(store), dim=dim, model=model)
    indexes, constraints, record = _indexes(store), _constraints(store), _record(store)

    second = apply_schema(Queries(store), dim=dim, model=model)

    assert second == first
    assert _indexes(store) == indexes  # same ids: nothing dropped and recreated
    assert _constraints(store) == constraints
    assert _record(store) == record  # not even updated_at moves
    assert record["nodes"] == 1
    assert record["record"]["version"] == SCHEMA_VERSION and record["record"]["embedding_dim"] == dim
    # everything schema.cypher declares exists: the indexes, and the constraints with their indexes
    assert {i["name"] for i in indexes} | {c["name"] for c in constraints} == set(OWN_NAMES)
    assert len(constraints) == 5 and all(c["ownedIndex"] for c in constraints)


def test_search_indexes_are_online_with_the_right_shape(store):
    dim, _ = _configured(store)
    rows = {r["name"]: r for r in _indexes(store)}
    server = Queries(store).server_version()
    filtering = vector_filters_supported(server)
    for name, entity_type, target in (
        ("entity_embedding", "NODE", (["Entity"], ["embedding"])),
        ("fact_embedding", "RELATIONSHIP", (["FACT"], ["embedding"])),
    ):
        row = rows[name]
        assert (row["type"], row["state"], row["entityType"]) == ("VECTOR", "ONLINE", entity_type), row
        filters = FILTERS[name] if filtering else []
        assert (row["labelsOrTypes"], row["properties"]) == (target[0], target[1] + filters)
        config = row["options"]["indexConfig"]
        assert config["vector.dimensions"] == dim and config["vector.similarity_function"].lower() == "cosine"
    assert (rows["entity_name"]["type"], rows["entity_name"]["state"]) == ("FULLTEXT", "ONLINE")
    assert rows["entity_name"]["properties"] == ["name"]
    assert (rows["fact_text"]["type"], rows["fact_text"]["state"]) == ("FULLTEXT", "ONLINE")
    assert rows["fact_text"]["entityType"] == "RELATIONSHIP" and rows["fact_text"]["properties"] == [
        "fact",
        "relation",
    ]
    status = read_status(Queries(store))
    assert status.ready and status.vector_filters == filtering and status.server_version == server
    assert Queries(store).vector_filters() == filtering
    assert set(status.index_dims) == set(VECTOR_INDEXES) and set(status.index_dims.values()) == {dim}
    assert all(status.indexes[n] == "ONLINE" for n in VECTOR_INDEXES + FULLTEXT_INDEXES)


def test_check_dimensions_names_the_index_that_does_not_fit():
    status = SchemaStatus(
        version=1,
        dim=384,
        model="all-MiniLM-L6-v2",
        indexes={n: "ONLINE" for n in VECTOR_INDEXES + FULLTEXT_INDEXES},
        index_dims={"entity_embedding": 384, "fact_embedding": 128},
    )
    check_dimensions(
        status.model_copy(update={"index_dims": {"entity_embedding": 384, "fact_embedding": 384}}),
        384,
        "all-MiniLM-L6-v2",
    )  # fits: no error
    with pytest.raises(SchemaError, match=r"fact_embedding holds 128-dimensional vectors .* makes 384"):
        check_dimensions(status, 384, "all-MiniLM-L6-v2")
    with pytest.raises(SchemaError, match=r"entity_embedding holds 384-dimensional vectors .*\(tiny\) makes 128"):
        check_dimensions(status, 128, "tiny")


def test_a_wrong_dimension_is_refused_before_anything_changes(store):
    dim, model = _configured(store)
    indexes, record = _indexes(store), _record(store)
    with pytest.raises(SchemaError, match=rf"(entity|fact)_embedding holds {dim}-dimensional vectors"):
        check_dimensions(read_status(Queries(store)), 128, model)
    with pytest.raises(SchemaError, match="_embedding holds"):
        apply_schema(Queries(store), dim=128, model=model)
    assert _indexes(store) == indexes and _record(store) == record


FACTS = [
    {
        "source": "Zofia",
        "source_type": "Person",
        "relation": "adopted",
        "target": "Biscuit",
        "target_type": "Animal",
        "fact": "Zofia adopted a greyhound named Biscuit from the animal shelter.",
    },
    {
        "source": "Zofia",
        "source_type": "Person",
        "relation": "owns",
        "target": "Crumb Bakery",
        "target_type": "Organization",
        "fact": "Zofia owns Crumb Bakery, known for its sourdough loaves.",
    },
    {
        "source": "Zofia",
        "source_type": "Person",
        "relation": "enjoys",
        "target": "mountaineering",
        "target_type": "Activity",
        "fact": "Zofia goes mountaineering in the Tatras every summer.",
    },
]


def test_vector_and_fulltext_indexes_answer_on_this_server(memory, embedder, store, new_user):
    user = new_user("schema")
    memory.add_triplets(FACTS, user_id=user)
    query = embedder.embed_one("Which dog did she bring home?")  # a paraphrase: no word in common
    # the index is shared with every other test's data: ask for enough neighbours to reach ours
    k = min(store.run("count_data")[0]["facts"], 20_000)
    nearest = store.run_text(
        "CALL db.index.vector.queryRelationships('fact_embedding', $k, $embedding) YIELD relationship, score "
        "WHERE relationship.user_id = $user RETURN relationship.relation AS relation, score ORDER BY score DESC",
        {"embedding": query, "user": user, "k": k},
    )
    assert len(nearest) == 3
    assert nearest[0]["relation"] == "adopted" and nearest[0]["score"] > nearest[1]["score"] + 0.05, nearest

    rare = store.run_text(
        "CALL db.index.fulltext.queryRelationships('fact_text', 'sourdough') YIELD relationship, score "
        "WHERE relationship.user_id = $user RETURN relationship.relation AS relation",
        {"user": user},
    )
    assert [r["relation"] for r in rare] == ["owns"]
    named = store.run_text(
        "CALL db.index.fulltext.queryNodes('entity_name', 'biscuit') YIELD node "
        "WHERE node.user_id = $user RETURN node.name AS name",
        {"user": user},
    )
    assert [r["name"] for r in named] == ["Biscuit"]
    entity_near = store.run_text(
        "CALL db.index.vector.queryNodes('entity_embedding', $k, $embedding) YIELD node, score "
        "WHERE node.user_id = $user RETURN node.name AS name ORDER BY score DESC LIMIT 1",
        {
            "embedding": embedder.embed_one("Zofia"),
            "user": user,
            "k": min(store.run("count_data")[0]["entities"], 20_000),
        },
    )
    assert [r["name"] for r in entity_near] == ["Zofia"]


def test_init_rebuilds_unfiltered_vector_indexes_where_the_server_filters(store, memory, new_user):
    """A memory made on 5.26 and opened on the 2026 line: `graphmem init` (apply_schema) drops the
    vector indexes built without filters and builds them with, reporting progress; the data stays."""
    queries = Queries(store)
    if not vector_filters_supported(queries.server_version()):
        pytest.skip("the server's vector indexes cannot filter inside (Neo4j 5.x): nothing to rebuild")
    user = new_user("rebuild")
    memory.add_triplets(FACTS, user_id=user)
    dim, model = _configured(store)
    queries.schema_statements("schema_drop_vector")
    queries.schema_statements("schema_vector", {"dim": dim})  # as 5.26 built them
    store.run_text("CALL db.awaitIndexes(300)")
    assert not read_status(queries).vector_filters and not Queries(store).vector_filters()
    reported: list[tuple[str, float]] = []

    status = apply_schema(queries, dim=dim, model=model, progress=lambda name, pct: reported.append((name, pct)))

    assert status.vector_filters and status.ready and Queries(store).vector_filters()
    assert {name for name, _ in reported} <= set(VECTOR_INDEXES)
    assert memory.search("Which dog did she bring home?", user_id=user, limit=3)  # the data is there
    assert apply_schema(queries, dim=dim, model=model) == status  # nothing more to do
