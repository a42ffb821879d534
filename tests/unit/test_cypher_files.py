"""What the engine sends for each statement file: query options only where Neo4j takes them."""

from __future__ import annotations

from graphmem.store import statements


def test_every_statement_keeps_its_plan_when_the_data_grows_except_administration():
    names = sorted(p.stem for p in statements.cypher_dir().glob("*.cypher"))
    assert "search_triplets" in names and "write_add" in names
    for name in names:
        sent = statements.statement(name)
        administration = name in (
            "schema",
            "schema_vector",
            "schema_vector_filtered",
            "schema_drop_fulltext",
            "schema_drop_vector",
            "schema_indexes",
        )
        assert sent.startswith("CYPHER replan=skip\n") != administration, name
        assert sent.endswith(statements.load(name)), name


def test_a_cypher_25_statement_takes_its_options_on_its_version_line():
    names = sorted(f"filtered/{p.stem}" for p in (statements.cypher_dir() / "filtered").glob("*.cypher"))
    assert names == [
        "filtered/conflict_candidates",
        "filtered/match_entities",
        "filtered/search_entities",
        "filtered/search_episodes",
        "filtered/search_seed_entities",
        "filtered/search_triplets",
    ]
    for name in names:
        sent = statements.statement(name)
        body = [line for line in sent.splitlines() if line.strip() and not line.lstrip().startswith("//")]
        assert body[0] == "CYPHER 25 replan=skip", name
        assert sent.count("CYPHER") == 1 and "SEARCH" in sent and "db.index.vector" not in sent, name


def test_the_filtered_schema_gives_every_statement_its_version():
    created = statements.statements("schema_vector_filtered")
    assert len(created) == 3
    assert all(s.startswith("CYPHER 25 CREATE VECTOR INDEX") and "WITH [" in s for s in created)
    assert all("scope_key" in s and "`vector.quantization.enabled`: false" in s for s in created)


def test_a_search_inside_a_filtered_index_asks_for_at_least_k_min():
    from graphmem.store.queries import IndexWidth

    # an approximate search for only the 30 wanted misses near neighbours (cypher/filtered/)
    assert IndexWidth(scan_max=2000, k_min=200, k_max=5000, want=30).params()["index_k"] == 200
    assert IndexWidth(scan_max=2000, k_min=50, k_max=5000, want=300).params()["index_k"] == 300
    for name in ("search_triplets", "search_episodes", "search_entities", "search_seed_entities"):
        sent = statements.statement(f"filtered/{name}")
        searches = [line for line in sent.splitlines() if line.lstrip().startswith("SEARCH ")]
        assert len(searches) == 3 and all("LIMIT $index_k)" in s for s in searches), name  # one per first id
