"""The write pipeline against the real Neo4j: matching, conflicts, invalidation, cost, atomicity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from graphmem import GraphMemory, InputError, Scope
from graphmem.llm import ScriptedLLM

pytestmark = pytest.mark.neo4j

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def without_cache(memory: GraphMemory) -> GraphMemory:
    """Neo4j ranks every add's neighbours: this process's search cache would once it holds the
    scope (tests/integration/test_add_from_cache.py), and the tests below are of Neo4j's paths."""
    if memory.cache is not None:
        memory.cache.close()
        memory.cache = memory.writer.cache = memory.retriever.cache = None
    return memory


def node_ids(memory: GraphMemory, user: str, name: str) -> set[str]:
    facts = memory.get_all(user_id=user, include_invalidated=True)
    return {f.source_id for f in facts if f.source.casefold() == name.casefold()} | {
        f.target_id for f in facts if f.target.casefold() == name.casefold()
    }


def test_case_and_whitespace_variants_are_one_node(memory: GraphMemory, new_user):
    user = new_user()
    memory.add_triplets(
        [{"source": "Alice", "source_type": "Person", "relation": "lives_in", "target": "Paris"}], user_id=user
    )
    memory.add_triplets(
        [{"source": "alice", "source_type": "Person", "relation": "works_at", "target": "Acme"}], user_id=user
    )
    memory.add_triplets(
        [{"source": "ALICE ", "source_type": "Person", "relation": "likes", "target": "tea"}], user_id=user
    )
    facts = memory.get_all(user_id=user)
    assert len(facts) == 3
    assert len({f.source_id for f in facts}) == 1
    assert {f.source for f in facts} == {"Alice"}


def test_fuller_name_matches_and_different_people_stay_apart(make_memory, new_user):
    user = new_user()
    memory = make_memory()
    memory.add_triplets(
        [{"source": "Alice", "source_type": "Person", "relation": "lives_in", "target": "Paris"}], user_id=user
    )
    memory.add_triplets(
        [{"source": "Alice Smith", "source_type": "Person", "relation": "works_at", "target": "Acme"}], user_id=user
    )
    memory.add_triplets(
        [{"source": "Bob", "source_type": "Person", "relation": "works_at", "target": "Acme"}], user_id=user
    )
    facts = {f.relation + f.source: f for f in memory.get_all(user_id=user)}
    assert facts["works_atAlice"].source_id == facts["lives_inAlice"].source_id  # "Alice Smith" -> Alice's node
    assert facts["works_atBob"].source_id != facts["lives_inAlice"].source_id

    # A stricter threshold keeps "Alice Smith" apart; "Alice Jones" is never Alice Smith.
    other = new_user()
    strict = make_memory()
    strict.writer.matcher.threshold = 0.95
    strict.add_triplets(
        [{"source": "Alice", "source_type": "Person", "relation": "lives_in", "target": "Paris"}], user_id=other
    )
    strict.add_triplets(
        [{"source": "Alice Smith", "source_type": "Person", "relation": "works_at", "target": "Acme"}], user_id=other
    )
    strict.add_triplets(
        [{"source": "Alice Jones", "source_type": "Person", "relation": "likes", "target": "tea"}], user_id=other
    )
    sources = {f.source: f.source_id for f in strict.get_all(user_id=other)}
    assert len(set(sources.values())) == 3, sources


def test_names_with_different_numbers_stay_apart_however_close(memory: GraphMemory, embedder, new_user):
    # MiniLM puts "Friend102" within 0.95 of "Friend101": the strict-vector rule alone would merge them
    a, b = embedder.embed(["Friend101", "Friend102"])
    assert sum(x * y for x, y in zip(a, b)) >= 0.95
    user = new_user()
    for name in ("Friend101", "Friend102", "friend 101"):
        memory.add_triplets(
            [{"source": name, "source_type": "Person", "relation": "lives_in", "target": "Oslo"}], user_id=user
        )
    ids = {f.source: f.source_id for f in memory.get_all(user_id=user)}
    assert ids["Friend101"] != ids["Friend102"], ids


@pytest.mark.parametrize("branch", ["scan", "index", "cache"])
def test_relatives_sharing_a_surname_stay_two_people(memory: GraphMemory, embedder, new_user, branch):
    # MiniLM puts these two names at cosine 0.944, Neo4j's similarity 0.972: above the 0.95 that
    # merged them (and moved Carlos to Oslo) before the matcher read scores as (1 + cosine) / 2
    a, b = embedder.embed(["carlos nakamura", "rafael nakamura"])
    assert (1 + sum(x * y for x, y in zip(a, b))) / 2 > 0.95
    if branch != "cache":
        without_cache(memory)
    if branch == "index":
        memory.writer.matcher.scan_max = 0  # the shared vector index answers, as in a scope of > 2,000 entities
    user = new_user()
    memory.add_triplets(
        [{"source": "Carlos Nakamura", "source_type": "Person", "relation": "lives_in", "target": "Rome"}], user_id=user
    )
    if branch == "cache":
        memory.cache.wait()  # the scope loaded: the next add ranks its neighbours from it
        assert memory.cache.held(Scope(user_id=user)) is not None
    memory.add_triplets(
        [{"source": "Rafael Nakamura", "source_type": "Person", "relation": "lives_in", "target": "Oslo"}], user_id=user
    )
    homes = {(f.source, f.target) for f in memory.get_all(user_id=user)}
    assert homes == {("Carlos Nakamura", "Rome"), ("Rafael Nakamura", "Oslo")}, homes


def test_matching_is_not_starved_by_other_tenants_look_alikes(memory: GraphMemory, new_user):
    # 30 other tenants hold a node named exactly "Alice": the shared vector index's top k for
    # "Alice" is all theirs (k = 5 here to make sure), so a top-k-then-filter lookup never sees
    # this scope's "Alice Smith". A small scope is compared exactly instead.
    without_cache(memory)
    memory.writer.matcher.k = 5
    for _ in range(30):
        memory.add_triplets(
            [{"source": "Alice", "source_type": "Person", "relation": "likes", "target": "tea"}],
            user_id=new_user("crowd"),
        )
    user = new_user()
    memory.add_triplets(
        [{"source": "Alice Smith", "source_type": "Person", "relation": "lives_in", "target": "Oslo"}], user_id=user
    )
    memory.add_triplets(
        [{"source": "Alice", "source_type": "Person", "relation": "works_at", "target": "Acme"}], user_id=user
    )
    ids = {f.relation: f.source_id for f in memory.get_all(user_id=user)}
    assert ids["works_at"] == ids["lives_in"], "'Alice' should have been linked to this scope's 'Alice Smith'"


def test_a_large_scope_matches_through_the_shared_vector_index(memory: GraphMemory, new_user):
    without_cache(memory)
    memory.writer.matcher.scan_max = 0  # every scope counts as large: the vector-index branch answers
    user = new_user()
    memory.add_triplets(
        [{"source": "Alice Smith", "source_type": "Person", "relation": "lives_in", "target": "Oslo"}], user_id=user
    )
    result = memory.add_triplets(
        [{"source": "Alice", "source_type": "Person", "relation": "works_at", "target": "Acme"}], user_id=user
    )
    ids = {f.relation: f.source_id for f in memory.get_all(user_id=user)}
    assert ids["works_at"] == ids["lives_in"] and result.usage.neo4j_round_trips == 3


def test_move_invalidates_old_city_with_time_and_link(memory: GraphMemory, new_user):
    user = new_user()
    first = memory.add({"role": "user", "name": "Sam", "content": "I live in Paris"}, user_id=user, timestamp=T0)
    moved_at = T0 + timedelta(days=30)
    second = memory.add(
        {"role": "user", "name": "Sam", "content": "I moved to London"}, user_id=user, timestamp=moved_at
    )
    [paris] = first.added
    [london] = second.added
    assert [f.id for f in second.invalidated] == [paris.id]

    valid = memory.get_all(user_id=user)
    assert [(f.source, f.relation, f.target) for f in valid] == [("Sam", "lives_in", "London")]

    stored_paris = memory.get(paris.id)
    assert stored_paris is not None
    assert stored_paris.valid_to == moved_at
    assert stored_paris.invalidated_by == london.id

    history = memory.history(paris.id)
    assert [f.target for f in history] == ["Paris", "London"]
    assert [f.target for f in memory.history("Sam", user_id=user)] == ["Paris", "London"]


def test_restatement_is_noop_without_resolver_call(make_memory, new_user):
    user = new_user()
    llm = ScriptedLLM()  # falls back to the offline rules, but counts every call
    memory = make_memory(llm)
    memory.add({"role": "user", "name": "Sam", "content": "I'm allergic to peanuts"}, user_id=user)
    before = len(llm.calls)
    again = memory.add({"role": "user", "name": "Sam", "content": "I'm allergic to peanuts"}, user_id=user)
    operations = [op for op, _ in llm.calls[before:]]
    assert "resolve" not in operations
    assert again.usage.llm_calls == 2  # the two extraction stages only
    assert again.added == [] and len(again.noop) == 1
    facts = memory.get_all(user_id=user)
    assert len(facts) == 1 and facts[0].mentions == 2


def test_llm_calls_per_add_are_bounded(make_memory, new_user):
    user = new_user()
    llm = ScriptedLLM()
    memory = make_memory(llm)
    no_candidates = memory.add({"role": "user", "name": "Kim", "content": "I live in Oslo"}, user_id=user)
    assert no_candidates.usage.llm_calls == 2
    with_candidates = memory.add({"role": "user", "name": "Kim", "content": "I moved to Bergen"}, user_id=user)
    assert with_candidates.usage.llm_calls == 3
    assert [op for op, _ in llm.calls[-3:]] == ["extract_entities", "extract_relations", "resolve"]

    single = make_memory(ScriptedLLM(), single_pass=True)
    one = single.add({"role": "user", "name": "Kim", "content": "I work at Equinor"}, user_id=user)
    assert one.usage.llm_calls == 1


def test_round_trips_do_not_grow_with_the_number_of_facts(memory: GraphMemory, new_user):
    user = new_user()
    small = memory.add_triplets([{"source": "A1", "relation": "knows", "target": "B1"}], user_id=user)
    big = memory.add_triplets(
        [{"source": f"P{i}", "relation": "knows", "target": f"Q{i}"} for i in range(12)], user_id=user
    )
    assert len(big.added) == 12
    assert small.usage.neo4j_round_trips == big.usage.neo4j_round_trips == 3


def test_failure_before_commit_leaves_graph_unchanged(memory: GraphMemory, new_user, store):
    user = new_user()
    memory.add({"role": "user", "name": "Ada", "content": "I live in Rome"}, user_id=user, timestamp=T0)
    before = memory.get_all(user_id=user, include_invalidated=True)
    counts_before = store.run("scope_stats", {"user_id": user, "agent_id": None, "run_id": None})

    def boom() -> None:
        raise RuntimeError("injected failure")

    with pytest.raises(RuntimeError, match="injected"):
        memory.add({"role": "user", "name": "Ada", "content": "I moved to Milan"}, user_id=user, _before_commit=boom)
    assert memory.get_all(user_id=user, include_invalidated=True) == before
    assert store.run("scope_stats", {"user_id": user, "agent_id": None, "run_id": None}) == counts_before


HOSTILE = [
    "Robert'); DROP DATABASE neo4j; --",
    "`}) DETACH DELETE n //",
    "x}) MATCH (n) DETACH DELETE n //",
    "$user_id {name: 'x'}",
    "emoji 🧠🔥 and RTL שלום עליכם مرحبا",
    "back`tick \"double\" 'single' {brace}",
    "A" * 10_000,
]


def test_hostile_strings_are_stored_as_plain_data(memory: GraphMemory, new_user, store):
    user, bystander = new_user(), new_user()
    memory.add_triplets([{"source": "Bystander", "relation": "lives_in", "target": "Quiet Town"}], user_id=bystander)
    indexes_before = store.run_text("SHOW INDEXES YIELD name RETURN collect(name) AS names")[0]["names"]
    triplets = [
        {
            "source": text,
            "source_type": text,
            "relation": text,
            "target": f"target {i}",
            "target_type": "`Label`) //",
            "fact": text,
        }
        for i, text in enumerate(HOSTILE)
    ]
    result = memory.add_triplets(triplets, user_id=user)
    assert len(result.added) == len(HOSTILE)
    stored = {f.source: f for f in memory.get_all(user_id=user)}
    assert set(stored) == set(HOSTILE)
    for f in stored.values():
        assert f.fact == f.source  # text kept byte for byte
        assert f.relation.replace("_", "").isalnum() or f.relation == "related_to"
    assert store.run_text("SHOW INDEXES YIELD name RETURN collect(name) AS names")[0]["names"] == indexes_before
    assert [f.target for f in memory.get_all(user_id=bystander)] == ["Quiet Town"]
    hits = memory.search("`}) DETACH DELETE n // emoji", user_id=user, mode="keyword")
    assert hits, "the hostile query still finds the fact its plain word names"
    assert all(h.fact.user_id == user for h in hits)


def test_two_users_with_identical_sentences_are_disjoint(memory: GraphMemory, new_user):
    alice_user, bob_user = new_user("a"), new_user("b")
    for user in (alice_user, bob_user):
        memory.add({"role": "user", "name": "Pat", "content": "I live in Vienna. I work at Acme."}, user_id=user)
    a_facts = memory.get_all(user_id=alice_user)
    b_facts = memory.get_all(user_id=bob_user)
    assert len(a_facts) == len(b_facts) == 2
    assert {f.id for f in a_facts}.isdisjoint({f.id for f in b_facts})
    assert {f.source_id for f in a_facts}.isdisjoint({f.source_id for f in b_facts})
    for mode in ("hybrid", "entity", "triplet", "keyword"):
        hits = memory.search("Where does Pat live and work?", user_id=bob_user, mode=mode, hops=2)
        assert hits, mode
        assert {h.fact.user_id for h in hits} == {bob_user}, mode
    assert memory.get(a_facts[0].id, user_id=bob_user) is None
    assert memory.history("Pat", user_id=bob_user) and all(
        f.user_id == bob_user for f in memory.history("Pat", user_id=bob_user)
    )


def test_delete_all_removes_only_that_scope(memory: GraphMemory, new_user):
    keep, drop = new_user(), new_user()
    memory.add_triplets([{"source": "K", "relation": "likes", "target": "tea"}], user_id=keep)
    memory.add_triplets([{"source": "D", "relation": "likes", "target": "tea"}], user_id=drop)
    assert memory.delete_all(user_id=drop) > 0
    assert memory.get_all(user_id=drop) == []
    assert len(memory.get_all(user_id=keep)) == 1


def test_message_ids_make_add_idempotent(memory: GraphMemory, new_user):
    user = new_user()
    turn = {"role": "user", "name": "Lou", "content": "I live in Porto", "id": "turn-1"}
    first = memory.add(turn, user_id=user)
    second = memory.add(turn, user_id=user)
    assert len(first.added) == 1
    assert second.skipped_messages == 1 and second.added == second.noop == []
    assert memory.get_all(user_id=user)[0].mentions == 1


def test_bad_input_is_named(memory: GraphMemory):
    with pytest.raises(InputError, match="user_id"):
        memory.add("I live in Paris")
    with pytest.raises(InputError, match="empty"):
        memory.add("   ", user_id="x")
    with pytest.raises(InputError, match="role"):
        memory.add({"role": "wizard", "content": "hi"}, user_id="x")
    with pytest.raises(InputError, match="confirm"):
        memory.reset()


def test_async_adds_run_concurrently_and_land_once(memory: GraphMemory, new_user):
    import asyncio

    from graphmem import AsyncGraphMemory

    user = new_user()
    amem = AsyncGraphMemory(memory, max_concurrency=4)

    async def main() -> list:
        adds = [
            amem.add_triplets([{"source": f"Person{i}", "relation": "lives_in", "target": "Graz"}], user_id=user)
            for i in range(6)
        ]
        results = await asyncio.gather(*adds)
        return results + [await amem.get_all(user_id=user), await amem.search("who lives in Graz", user_id=user)]

    *results, facts, hits = asyncio.run(main())
    assert all(len(r.added) == 1 for r in results)
    assert len(facts) == 6 and len({f.target_id for f in facts}) == 1  # one Graz node
    assert hits and all(h.fact.user_id == user for h in hits)


def test_stats_count_a_scope_and_the_async_facade_agrees(memory: GraphMemory, new_user):
    import asyncio

    from graphmem import AsyncGraphMemory, MemoryStats

    user = new_user("stats")
    memory.add("I live in Paris.", user_id=user)
    memory.add("I moved to Rome.", user_id=user)  # invalidates Paris
    stats = memory.stats(user_id=user)
    assert stats == MemoryStats(entities=3, valid_facts=1, invalidated_facts=1, messages=2), stats
    assert asyncio.run(AsyncGraphMemory(memory).stats(user_id=user)) == stats
    everything = memory.stats()
    assert everything.messages >= 2 and everything.entities >= 3
    with pytest.raises(InputError):
        memory.stats(user_id="")
