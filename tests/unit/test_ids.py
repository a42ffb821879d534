"""Derived ids never change between versions: stored graphs keep matching re-ingested turns.
The expected values were computed by the code that wrote existing graphs. Pure."""

from __future__ import annotations

from datetime import UTC, datetime

from graphmem import Message, Scope
from graphmem.store.ids import entity_id, fact_id, message_node_id

SCOPE = Scope(user_id="u1")


def test_derived_ids_are_stable() -> None:
    assert entity_id(SCOPE, "alice") == "9efb5c82050e8327b90182aae3268f7b"
    assert fact_id(SCOPE, "a", "lives_in", "b", datetime(2025, 1, 1, tzinfo=UTC)) == "45da905dd21fabdce18ca904ba66f809"
    assert message_node_id(SCOPE, Message(content="x", id="m1")) == "c26d9ed16d03f131195fd69de0e1e777"


def test_a_turn_without_an_id_is_always_new() -> None:
    turn = Message(content="x")
    assert message_node_id(SCOPE, turn) != message_node_id(SCOPE, turn)
    assert entity_id(Scope(user_id="u2"), "alice") != entity_id(SCOPE, "alice")
