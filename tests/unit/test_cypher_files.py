"""What the engine sends for each statement file: query options only where Neo4j takes them."""

from __future__ import annotations

from graphmem.store import statements


def test_every_statement_keeps_its_plan_when_the_data_grows_except_administration():
    names = sorted(p.stem for p in statements.cypher_dir().glob("*.cypher"))
    assert "search_triplets" in names and "write_add" in names
    for name in names:
        sent = statements.statement(name)
        administration = name in ("schema", "schema_drop_fulltext", "schema_drop_vector", "schema_indexes")
        assert sent.startswith("CYPHER replan=skip\n") != administration, name
        assert sent.endswith(statements.load(name)), name
