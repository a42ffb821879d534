"""bench/tenants.py's world, without Neo4j: the probes hold each look-alike's full name once, the
crowd shares the names, and everything is the same from one run to the next."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from bench.tenants import HELD, PROBES, SCRIPTED, World, decisions
from graphmem import AddResult, Fact
from graphmem.embed.hashing import HashingEmbedder


@pytest.fixture(scope="module")
def world() -> World:
    return World(HashingEmbedder(), facts=100, large_entities=600, pool_size=2000)


def test_the_large_probe_holds_each_first_name_once_in_its_full_name(world: World) -> None:
    rows = world.probe(large=True)
    assert len(rows) == len(HELD) + 600
    for first, full in PROBES.items():
        people = {r.source for r in rows if r.source.split()[0] == first}
        assert people == {full}, first  # "Alice" can only mean "Alice Smith" in this scope
    assert len({r.source for r in rows}) == len(rows)  # one fact per person


def test_the_small_probe_is_a_crowd_tenant_plus_the_three(world: World) -> None:
    rows = world.probe(large=False)
    # a crowd tenant's 100 facts less those about the three first names, then the three
    assert 90 <= len(rows) <= 100 and [(r.source, r.relation, r.target) for r in rows[:3]] == HELD
    assert not {r.source for r in rows[3:]} & set(PROBES)


def test_the_crowd_shares_the_look_alike_names_and_is_deterministic(world: World) -> None:
    tenants = [world.crowd(u) for u in range(50)]
    with_alice = sum(any(r.source == "Alice" for r in rows) for rows in tenants)
    assert with_alice > 25  # most tenants know an "Alice": the shared index fills with them
    again = world.crowd(7)
    assert [r.sentence for r in again] == [r.sentence for r in tenants[7]]
    assert all(np.allclose(a.vector, b.vector) for a, b in zip(again, tenants[7]))
    assert {s for s, _, _ in SCRIPTED} == set(PROBES)


def test_decisions_are_compared_as_sets_of_what_the_add_did() -> None:
    def fact(source: str, target: str) -> Fact:
        return Fact(
            id="0" * 32,
            source=source,
            source_type="Person",
            relation="lives_in",
            target=target,
            target_type="City",
            fact=f"{source} lives in {target}.",
            valid_from=datetime(2026, 1, 1, tzinfo=UTC),
            created_at=datetime(2026, 1, 1, tzinfo=UTC),
        )

    result = AddResult(added=[fact("Alice Smith", "Berlin")], invalidated=[fact("Alice Smith", "Paris")])
    assert decisions(result) == [
        ("added", "Alice Smith", "lives_in", "Berlin"),
        ("invalidated", "Alice Smith", "lives_in", "Paris"),
    ]


def test_the_readme_table_reads_every_committed_result() -> None:
    from bench.tenants import table

    lines = table(["tenants-5.26.json", "tenants-2026.json"]).splitlines()
    columns = lines[0].count("|")
    assert len(lines) > 4 and all(line.count("|") == columns for line in lines)
