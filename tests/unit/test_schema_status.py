"""When `graphmem init` builds the full-text indexes again (graphmem/store/schema.py), decided from
what SHOW INDEXES reported, without Neo4j."""

from __future__ import annotations

import pytest

from graphmem.store.schema import (
    FULLTEXT_INDEXES,
    FULLTEXT_PROPERTIES,
    SchemaStatus,
    fulltext_outdated,
    vector_filters_supported,
)


def status(**changes: dict) -> SchemaStatus:
    current = {
        "analyzers": {name: "english" for name in FULLTEXT_INDEXES},
        "eventually_consistent": {name: True for name in FULLTEXT_INDEXES},
        "properties": dict(FULLTEXT_PROPERTIES),
    }
    for field, values in changes.items():
        current[field] = {**current[field], **values}
    return SchemaStatus(version=5, dim=384, model="m", indexes={}, index_dims={}, **current)


def test_current_full_text_indexes_are_kept() -> None:
    assert not fulltext_outdated(status())


def test_a_synchronous_full_text_index_is_built_again() -> None:
    # schema < 6: every commit refreshed the index itself
    assert fulltext_outdated(status(eventually_consistent={"message_text": False}))


def test_another_analyzer_or_other_properties_are_built_again() -> None:
    assert fulltext_outdated(status(analyzers={"fact_text": "standard-no-stop-words"}))
    assert fulltext_outdated(status(properties={"fact_text": ["fact", "predicate"]}))


@pytest.mark.parametrize(
    ("version", "filters"),
    [
        ("5.26.30", False),
        ("2025.12.1", False),
        ("2026.01.3", True),
        ("2026.08.1", True),
        ("2027.01.0", True),
        (None, False),
        ("", False),
        ("dev", False),
    ],
)
def test_vector_filters_come_with_the_2026_line(version, filters):
    assert vector_filters_supported(version) is filters


def test_vector_filters_are_what_the_indexes_cover():
    covered = {
        "entity_embedding": ["embedding", "scope_key"],
        "fact_embedding": ["embedding", "scope_key"],
        "message_embedding": ["embedding", "scope_key"],
    }
    assert SchemaStatus(version=6, dim=384, model="m", indexes={}, index_dims={}, properties=covered).vector_filters
    for name in covered:  # the searches read all three
        half = {**covered, name: ["embedding"]}
        assert not SchemaStatus(
            version=6, dim=384, model="m", indexes={}, index_dims={}, properties=half
        ).vector_filters
