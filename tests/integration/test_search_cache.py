"""The search's scope cache (graphmem/cache/scope_cache.py) against the real Neo4j: it returns what
the exact scans in Neo4j return, under every filter, and a search service in one OS process
sees at once what other processes write, change and delete."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pytest

from graphmem import GraphMemory, Scope, Usage
from graphmem.cache.scope_cache import ScopeCache
from graphmem.cache.vectors import ScopeVectors
from graphmem.search.retrieve import Retriever
from graphmem.store.queries import Filters

pytestmark = pytest.mark.neo4j
TOKEN = "cache-test-token-" + uuid.uuid4().hex
START = datetime(2025, 1, 1, tzinfo=UTC)
TURNS = [
    "I live in Berlin.",
    "My sister Anna works at Siemens.",
    "My brother Jonas plays the flute.",
    "I moved to Munich.",
    "My favourite band is Radiohead.",
    "I'm training for a marathon in Vienna.",
    "I work at Bosch.",
    "I moved to Hamburg.",
    "Anna lives in Leipzig.",
    "I started working at SAP.",
]
QUERIES = [
    "Where do I live?",
    "Where does my sister work?",
    "Which instrument does Jonas play?",
    "What music do I like?",
    "marathon training",
    "Where did I work before?",
]


@pytest.fixture
def lived(memory: GraphMemory, new_user) -> tuple[str, str]:
    """A user whose turns, a day apart, move home and job twice (so facts are invalidated),
    and an agent below the user with a turn of its own."""
    user, agent = new_user("cache"), f"test-cache-agent-{uuid.uuid4().hex[:8]}"
    for day, text in enumerate(TURNS):
        memory.add({"role": "user", "content": text}, user_id=user, timestamp=START + timedelta(days=day))
    memory.add({"role": "user", "content": "I live in Oslo."}, user_id=user, agent_id=agent, timestamp=START)
    return user, agent


def _seen(results) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    return (
        [(h.fact.id, round(h.score, 4)) for h in results],
        [(e.episode.id, round(e.score, 4)) for e in results.episodes],
    )


def test_the_cache_returns_what_the_scans_in_neo4j_return(memory: GraphMemory, lived):
    user, agent = lived
    scanning = Retriever(memory.queries, memory.embedder, phrases=memory.phrases)
    assert memory.cache is not None and scanning.cache is None
    filters = [
        {},
        {"include_invalidated": True},
        {"as_of": START + timedelta(days=4, hours=12)},
        {"relations": ["lives_in"]},
    ]
    compared = 0
    for scope in (Scope(user_id=user), Scope(user_id=user, agent_id=agent), Scope(agent_id=agent)):
        for query in QUERIES:
            for mode in ("associative", "hybrid", "triplet", "keyword", "entity", "episode"):
                for where in filters:
                    cached = memory.retriever.search(query, scope, mode=mode, **where)
                    assert _seen(cached) == _seen(scanning.search(query, scope, mode=mode, **where)), (
                        scope,
                        query,
                        mode,
                        where,
                    )
                    compared += bool(cached or cached.episodes)
    assert compared > 150  # most searches found something to compare
    assert memory.cache.loads == 3  # one load per scope: every later search was current
    assert memory.cache.refreshes == 0


def _by_id(scope: ScopeVectors) -> tuple[dict[str, tuple], dict[str, np.ndarray]]:
    """Every item's columns the ranking reads, and its vector, by id (order aside)."""
    fields, vectors = {}, {}
    facts = zip(scope.fact_ids, scope.relations, scope.valid_from, scope.valid_to, scope.fact_ends, scope.fact_texts)
    for n, (i, *rest) in enumerate(facts):
        fields[i], vectors[i] = tuple(rest), scope.fact_vectors[n]
    for n, item in enumerate(zip(scope.turn_ids, scope.turn_times, scope.turn_stems)):
        fields[item[0]], vectors[item[0]] = item[1:], scope.turn_vectors[n]
    entities = zip(scope.entity_ids, scope.entity_names, scope.entity_normalized, scope.entity_embedded)
    for n, (i, *rest) in enumerate(entities):
        fields[i], vectors[i] = tuple(rest), scope.entity_vectors[n]
    return fields, vectors


def test_this_process_adds_reach_the_cache_without_a_read_and_hold_what_neo4j_holds(memory: GraphMemory, new_user):
    user = new_user("cache-fold")
    scope = Scope(user_id=user)
    cache = memory.cache
    assert cache is not None
    memory.add({"role": "user", "content": TURNS[0]}, user_id=user, timestamp=START)
    cache.wait()  # a scope's first write loads it (one turn, one fact)
    loads, refreshes = cache.loads, cache.refreshes
    for day, text in enumerate(TURNS[1:], start=1):  # moves and job changes: facts closed
        memory.add({"role": "user", "content": text}, user_id=user, timestamp=START + timedelta(days=day))
    assert cache.folded >= len(TURNS) - 1
    usage = Usage()
    found = memory.search("Where do I live?", user_id=user, mode="hybrid", limit=3, usage=usage)
    assert found[0].fact.target == "Hamburg"
    assert usage.neo4j_round_trips == 1  # the fetch of what it ranked: nothing was read back
    assert (cache.loads, cache.refreshes) == (loads, refreshes)
    fresh = ScopeCache(memory.queries, memory.embedder.dim, max_bytes=2**26, background=False)
    loaded = fresh._load(Filters(scope), None, None)
    assert loaded is not None and loaded.clocks == cache._scopes[scope.key].clocks
    (folded, folded_vectors), (held, held_vectors) = _by_id(cache._scopes[scope.key]), _by_id(loaded)
    assert folded == held
    for item, vector in held_vectors.items():
        np.testing.assert_allclose(folded_vectors[item], vector, atol=1e-6, err_msg=item)


def test_a_search_service_sees_other_processes_writes_changes_and_deletions(
    memory: GraphMemory, new_user, spawn, shared_env, free_tcp_port, wait_for_http, tmp_path: Path
):
    user = new_user("cache-serve")
    memory.add({"role": "user", "content": "I live in Berlin."}, user_id=user, timestamp=START)
    port = free_tcp_port()
    proc = spawn(["serve", "--port", str(port)], {**shared_env, "GRAPHMEM_API_TOKEN": TOKEN})
    base = f"http://127.0.0.1:{port}"
    wait_for_http(base + "/healthz", proc)
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120) as api:

        def search(query: str, mode: str = "triplet") -> dict:
            found = api.post("/v1/search", json={"query": query, "user_id": user, "mode": mode, "limit": 5})
            assert found.status_code == 200, found.text
            return found.json()

        def homes() -> list[str]:
            return [
                h["fact"]["target"] for h in search("Where do I live?")["facts"] if h["fact"]["relation"] == "lives_in"
            ]

        assert homes() == ["Berlin"]  # the service's cache now holds the scope
        # another process (an ingest job) moves the user: the service ranks the new home and
        # no longer returns the old one, which is now invalidated
        transcript = tmp_path / "moves.jsonl"
        transcript.write_text(json.dumps({"role": "user", "content": "I moved to Hamburg.", "id": "cache-move"}) + "\n")
        ingest = spawn(["ingest", str(transcript), "--user", user], shared_env)
        out, err = ingest.communicate(timeout=300)
        assert ingest.returncode == 0, out + err
        assert homes() == ["Hamburg"]
        # this process deletes that fact: the service must not return it
        hamburg = next(f for f in memory.get_all(user_id=user) if f.target == "Hamburg")
        assert memory.delete(hamburg.id, user_id=user)
        assert homes() == []
        # a turn no fact comes of is still found among the turns
        memory.add({"role": "user", "content": "Hmm, the quokka photos were lovely."}, user_id=user)
        turns = search("quokka", mode="episode")["episodes"]
        assert turns and "quokka" in turns[0]["episode"]["content"]
        # the whole scope deleted: nothing is left to find
        memory.delete_all(user_id=user)
        left = search("Where do I live?", mode="associative")
        assert left["facts"] == [] and left["episodes"] == []
