"""Retrieval against the real Neo4j and the real MiniLM embedder, on the hand-written fixture
of bench/fixtures.py (shared with bench/search_bench.py): ~60 facts written into each of five
users who hold identical facts, plus offline-extractor turns (Alice moves from Paris to London).

Each retrieval signal is shown to find what only it can find, the validity filters and the
scope filters are checked in every mode, and both execution paths of every search statement
are covered: the exact scan of a small scope and the shared indexes of a large one.
"""

from __future__ import annotations

import math
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from bench import fixtures as fx
from graphmem import GraphMemory, Scope, Usage
from graphmem.llm import OfflineLLM
from graphmem.search.fusion import RRF_K
from graphmem.search.recipes import MODES
from graphmem.search.retrieve import Retriever
from graphmem.store.queries import Filters

FACT_MODES = tuple(m for m in MODES if m != "episode")  # episode mode returns turns only

pytestmark = pytest.mark.neo4j

USERS = 5
TAG = uuid.uuid4().hex[:8]
AGENT, RUN = f"test-agent-{TAG}", f"test-run-{TAG}"
OLAF = ("Olaf", "lives_in", "Reykjavik")
#: written under (user 0, AGENT) and under (user 0, RUN) only
BELOW_USER = [
    {
        "source": "Olaf",
        "source_type": "Person",
        "relation": "lives_in",
        "target": "Reykjavik",
        "target_type": "City",
        "fact": "Olaf lives in Reykjavik.",
    }
]


@pytest.fixture(scope="module")
def world(store, embedder, neo4j_settings):
    """The fixture in USERS users (module scope: built once, deleted at the end)."""
    memory = GraphMemory(store, llm=OfflineLLM(), embedder=fx.CachedEmbedder(embedder), settings=neo4j_settings)
    users = [f"test-retrieval-{TAG}-{i}" for i in range(USERS)]
    try:
        for user in users:
            fx.build(memory, user)
        memory.add_triplets(BELOW_USER, user_id=users[0], agent_id=AGENT, timestamp=fx.BASE_TIME)
        memory.add_triplets(BELOW_USER, user_id=users[0], run_id=RUN, timestamp=fx.BASE_TIME)
        yield memory, users
    finally:
        for user in users:
            memory.delete_all(user_id=user)


@pytest.fixture(scope="module")
def memory(world) -> GraphMemory:
    return world[0]


@pytest.fixture(scope="module")
def user(world) -> str:
    return world[1][0]


def keys(hits) -> list[tuple[str, str, str]]:
    return [fx.key(h.fact) for h in hits]


def rank(hits, key) -> int | None:
    return next((i + 1 for i, h in enumerate(hits) if fx.key(h.fact) == key), None)


def query(kind: str) -> fx.Query:
    return next(q for q in fx.QUERIES if q.kind == kind)


def test_fixture_is_what_the_tests_assume(world):
    memory, users = world
    for user in users:
        valid = memory.get_all(user_id=user)
        every = memory.get_all(user_id=user, include_invalidated=True)
        assert len(valid) == len(fx.WORLD) + 2 + (2 if user == users[0] else 0)  # + London, Initrode (+ Olaf x2)
        assert len(every) == len(valid) + 1  # Paris, closed by the move
    assert sum(len(memory.get_all(user_id=u)) for u in users) >= 300


def test_entity_mode_reaches_a_two_hop_fact_that_triplet_mode_misses(memory, user):
    q = query("two_hop")
    hits = memory.search(q.text, user_id=user, mode="entity", hops=2)
    found = rank(hits, fx.TWO_HOP)
    assert found is not None and found <= 10, keys(hits)
    assert hits[found - 1].hops == 2  # Alice -> Anna (sister_of) -> Acme (works_at)
    assert rank(memory.search(q.text, user_id=user, mode="entity", hops=1), fx.TWO_HOP) is None
    # the sentence shares no meaning with the question: the embedding alone does not rank it
    triplet = memory.search(q.text, user_id=user, mode="triplet", limit=10)
    assert len(triplet) == 10 and rank(triplet, fx.TWO_HOP) is None, keys(triplet)


def test_entity_seeds_are_the_named_entities_else_a_few_nearest(memory, user):
    from graphmem.search.retrieve import query_words
    from graphmem.store.queries import Filters, Seeding

    def seeds(text: str) -> list[tuple[str, float]]:
        rows = memory.queries.search_seed_entities(
            Filters(Scope(user_id=user)),
            memory.retriever._width(50),
            Seeding(words=query_words(text), min_vector_score=0.5, vector_seeds=3, seeds=10),
            memory.embedder.embed_one(text),
            Usage(),
        )
        return [(r["name"], r["score"]) for r in rows]

    # named: only Alice, although every person's name is ~0.6-0.7 from such a question
    assert seeds("Where does Alice's sister work?") == [("Alice", 1.0)]
    assert seeds("Who works at Stark?") == [("Stark Industries", 0.5)]  # half of the name
    fallback = seeds(query("paraphrase").text)  # names nothing: at most 3 nearest, by cosine
    assert 1 <= len(fallback) <= 3 and all(0.5 <= score < 1.0 for _, score in fallback)


def test_triplet_mode_finds_a_paraphrase_with_no_shared_word(memory, user):
    q = query("paraphrase")
    stored = next(t["fact"] for t in fx.WORLD if (t["source"], t["relation"], t["target"]) == fx.PARAPHRASE)

    def words(text: str) -> set[str]:
        return set(re.findall(r"\w+", text.casefold()))

    assert not words(q.text) & words(stored)  # really no shared word, not even "is"
    hits = memory.search(q.text, user_id=user, mode="triplet")
    assert rank(hits, fx.PARAPHRASE) == 1, keys(hits)
    assert rank(memory.search(q.text, user_id=user, mode="keyword"), fx.PARAPHRASE) is None


def test_keyword_mode_finds_a_rare_proper_noun(memory, user):
    hits = memory.search("Tell me about Quetzalli", user_id=user, mode="keyword")
    assert rank(hits, fx.RARE_NOUN) == 1, keys(hits)
    assert hits[0].signals["keyword"].rank == 1
    # a rare name outweighs common words that match many facts
    hits = memory.search("Quetzalli lives and works somewhere", user_id=user, mode="keyword")
    assert rank(hits, fx.RARE_NOUN) == 1, keys(hits)


def test_hybrid_finds_all_three_and_shows_which_lists_did(memory, user):
    for kind, key in (("two_hop", fx.TWO_HOP), ("paraphrase", fx.PARAPHRASE), ("rare_noun", fx.RARE_NOUN)):
        q = query(kind)
        hits = memory.search(q.text, user_id=user, mode="hybrid", hops=q.hops)
        found = rank(hits, key)
        assert found is not None and found <= 10, (kind, keys(hits))
        hit = hits[found - 1]
        assert set(hit.signals) <= {"triplet", "keyword", "entity"}
        assert hit.score == pytest.approx(sum(1 / (RRF_K + s.rank) for s in hit.signals.values()))
        if kind == "two_hop":
            assert "entity" in hit.signals  # the triplet list has it, if at all, below its top 10
            assert "triplet" not in hit.signals or hit.signals["triplet"].rank > 10
        if kind == "paraphrase":
            assert "triplet" in hit.signals and "keyword" not in hit.signals
        if kind == "rare_noun":
            assert hit.signals["keyword"].rank == 1


def test_hybrid_signal_ranks_are_the_ranks_of_each_mode(memory, user):
    text = "Where does Carol work?"
    # at limit 10 hybrid fuses lists 30 deep, the very lists each mode returns the top 10 of
    hybrid = memory.search(text, user_id=user, mode="hybrid", limit=10)
    by_mode = {m: memory.search(text, user_id=user, mode=m, limit=10) for m in ("triplet", "keyword", "entity")}
    top = hybrid[0]
    assert fx.key(top.fact) == ("Carol", "works_at", "Globex")
    assert set(top.signals) == {"triplet", "keyword", "entity"}  # every list found it
    checked = 0
    for hit in hybrid:
        assert hit.signals
        for signal, found in hit.signals.items():
            ids = [h.fact.id for h in by_mode[signal]]
            if found.rank <= len(ids):
                assert ids[found.rank - 1] == hit.fact.id, (signal, found)
                assert by_mode[signal][found.rank - 1].score == pytest.approx(found.score)
                checked += 1
            else:
                assert hit.fact.id not in ids
    assert checked >= 10
    assert [h.score for h in hybrid] == sorted((h.score for h in hybrid), reverse=True)


def test_a_move_replaces_the_old_city_and_as_of_travels_back(memory, user):
    now = memory.search("where does alice live", user_id=user)
    assert keys(now)[0] == fx.ALICE_IN_LONDON
    assert fx.ALICE_IN_PARIS not in keys(now)
    for mode in FACT_MODES:  # no mode returns a closed fact unless asked
        hits = memory.search("where does alice live", user_id=user, mode=mode)
        assert hits and all(h.fact.valid_to is None for h in hits), mode

    before = memory.search("where does alice live", user_id=user, as_of=datetime(2025, 2, 1, tzinfo=UTC))
    assert keys(before)[0] == fx.ALICE_IN_PARIS
    assert fx.ALICE_IN_LONDON not in keys(before)
    assert ("Alice", "works_at", "Initrode") not in keys(before)  # said after that day
    assert ("Alice", "enjoys", "pottery") in keys(before)  # valid since 2024

    both = memory.search("where does alice live", user_id=user, include_invalidated=True)
    assert {fx.ALICE_IN_PARIS, fx.ALICE_IN_LONDON} <= set(keys(both))
    paris = both[rank(both, fx.ALICE_IN_PARIS) - 1].fact
    london = both[rank(both, fx.ALICE_IN_LONDON) - 1].fact
    assert paris.valid_to == fx.MOVED_TO_LONDON and paris.invalidated_by == london.id


@pytest.mark.parametrize("mode", FACT_MODES)
def test_entity_type_and_relation_filters(memory, user, mode):
    foods = memory.search("What food does Frank like?", user_id=user, mode=mode, entity_types=["food"])
    assert ("Frank", "likes", "sushi") in keys(foods)
    assert foods and all("Food" in (h.fact.source_type, h.fact.target_type) for h in foods)

    jobs = memory.search("Where does Carol work?", user_id=user, mode=mode, relations=["works at"])
    assert keys(jobs)[0] == ("Carol", "works_at", "Globex")
    assert all(h.fact.relation == "works_at" for h in jobs)

    both = memory.search("Carol", user_id=user, mode=mode, entity_types=["City"], relations=["lives_in"])
    assert keys(both)[0] == ("Carol", "lives_in", "Berlin")
    assert all(h.fact.relation == "lives_in" and h.fact.target_type == "City" for h in both)
    if mode in ("keyword", "entity"):  # the name is the only thing asked for
        assert len(both) == 1


@pytest.mark.parametrize("path", ["cache", "scan", "shared_index"])
def test_no_result_crosses_scopes(world, path):
    memory, users = world
    # cache: the default, the lists ranked from the scope cache;
    # scan: small scopes are scanned exactly in Neo4j; shared_index: the path of large scopes, forced
    retriever = {
        "cache": memory.retriever,
        "scan": Retriever(memory.queries, memory.embedder),
        "shared_index": Retriever(memory.queries, memory.embedder, scan_max=0),
    }[path]
    queries = [q for q in fx.QUERIES if q.kind != "plain"] + fx.QUERIES[3:8]
    for user in users[:2]:
        for mode in FACT_MODES:
            for q in queries:
                hits = retriever.search(q.text, Scope(user_id=user), mode=mode, hops=q.hops)
                assert hits or (mode, q.kind) == ("keyword", "paraphrase"), (path, mode, q.text)
                assert {h.fact.user_id for h in hits} <= {user}, (path, mode, q.text)
    # ids below the user: an agent or a run sees its own facts only, the user sees all of them
    for mode in FACT_MODES:
        text = "Where does Olaf live?"
        agent = retriever.search(text, Scope(user_id=users[0], agent_id=AGENT), mode=mode)
        assert [(fx.key(h.fact), h.fact.agent_id, h.fact.run_id) for h in agent] == [(OLAF, AGENT, None)], mode
        agent_only = retriever.search(text, Scope(agent_id=AGENT), mode=mode)
        assert [(h.fact.agent_id, h.fact.user_id) for h in agent_only] == [(AGENT, users[0])], mode
        run_only = retriever.search(text, Scope(run_id=RUN), mode=mode)
        assert [(h.fact.run_id, h.fact.user_id) for h in run_only] == [(RUN, users[0])], mode
        mine = retriever.search(text, Scope(user_id=users[0]), mode=mode)
        assert keys(mine).count(OLAF) == 2 and {h.fact.user_id for h in mine} == {users[0]}, mode
        assert OLAF not in keys(retriever.search(text, Scope(user_id=users[1]), mode=mode)), mode


def test_shared_index_path_finds_the_same_key_facts(memory, user):
    """The path a large scope takes (indexes shared by all scopes, k scaled by its share)."""
    forced = Retriever(memory.queries, memory.embedder, scan_max=0)
    scope = Scope(user_id=user)
    assert rank(forced.search(query("paraphrase").text, scope, mode="triplet"), fx.PARAPHRASE) == 1
    assert rank(forced.search("Tell me about Quetzalli", scope, mode="keyword"), fx.RARE_NOUN) == 1
    q = query("two_hop")
    assert rank(forced.search(q.text, scope, mode="entity", hops=2), fx.TWO_HOP) is not None
    assert keys(forced.search("where does alice live", scope))[0] == fx.ALICE_IN_LONDON


def test_the_shared_full_text_indexes_see_every_committed_add(memory):
    """The full-text indexes are eventually consistent (cypher/schema.cypher): a commit queues
    their updates. Each statement querying one, run right after an add, must still find it."""
    forced = Retriever(memory.queries, memory.embedder, scan_max=0)
    user = f"test-retrieval-fresh-{uuid.uuid4().hex[:8]}"
    scope = Scope(user_id=user)
    filters = Filters(scope)

    def add_fact(name: str, word: str) -> None:
        fact = {"source": name, "relation": "collects", "target": word, "fact": f"{name} collects {word}."}
        memory.add_triplets([fact], user_id=user)

    try:
        for i in range(20):
            word, name, turn = f"zorblax{i}", f"Quill{i}", f"glimmerfin{i}"
            add_fact(name, word)  # search_keyword: fact_text
            assert [h.fact.target for h in forced.search(word, scope, mode="keyword")][:1] == [word], i
            add_fact(f"Rook{i}", f"{word}b")  # search_keyword: entity_name
            assert [h.fact.source for h in forced.search(f"Rook{i}", scope, mode="keyword")][:1] == [f"Rook{i}"], i
            # search_seed_entities: a named seed (entity_name) weighs 1.0, a vector seed stands in for a miss
            vector, seeding = memory.embedder.embed_one(name), forced._seeding([f"wren{i}"])
            add_fact(f"Wren{i}", f"{word}c")
            seeds = memory.queries.search_seed_entities(filters, forced._width(10), seeding, vector, Usage())
            assert [(s["name"], s["score"]) for s in seeds] == [(f"Wren{i}", 1.0)], i
            # search_episodes: the turn found by its word (message_text), not only by its embedding
            vector = memory.embedder.embed_one(turn)
            memory.add({"role": "user", "content": f"I saw a {turn} today."}, user_id=user)
            rows = memory.queries.search_episodes(filters, forced._width(15), vector, [turn], [turn], 5, Usage())
            assert [(turn in r["episode"]["content"], r["keyword"] is not None) for r in rows][:1] == [(True, True)], i
    finally:
        memory.delete_all(user_id=user)


def test_hits_carry_the_same_facts_as_get(memory, user):
    """Search sends times as strings (fast to decode); the facts must still be exactly the stored ones."""
    for mode in FACT_MODES:
        hits = memory.search("where does alice live", user_id=user, mode=mode, include_invalidated=True)
        assert hits
        for hit in hits:
            stored = memory.get(hit.fact.id)
            assert hit.fact == stored, mode
            assert hit.fact.valid_from.utcoffset() == stored.valid_from.utcoffset() == timedelta(0), mode


def test_to_context_is_dated_best_first_and_within_budget(memory, user):
    hits = memory.search("Tell me about Alice", user_id=user, limit=20, episodes=0, include_invalidated=True)
    full = hits.to_context(max_tokens=10_000).splitlines()
    assert len(full) == len(hits) >= 5
    assert full == ["- " + h.line() for h in hits]  # best first, one line per hit
    for line in full:
        assert re.match(r"^- \[\d{4}-\d{2}-\d{2}(?: \(until \d{4}-\d{2}-\d{2}\))?\] ", line), line
    paris = next(line for line in full if "Alice lives in Paris" in line)
    assert paris.startswith("- [2025-01-01 (until 2025-03-01)]")
    for budget in (1, 15, 40, 80, 200):
        context = hits.to_context(max_tokens=budget)
        lines = context.splitlines()
        assert lines == full[: len(lines)]  # a prefix: the cut drops the least relevant
        assert sum(math.ceil(len(line) / 4) + 1 for line in lines) <= budget
        if len(lines) < len(full):  # it stopped because the next line did not fit
            nxt = full[len(lines)]
            assert sum(math.ceil(len(line) / 4) + 1 for line in lines + [nxt]) > budget
    assert hits.to_context(max_tokens=1) == ""


def test_recall_at_10_on_the_hand_written_queries(memory, user):
    for mode in MODES:
        result = fx.recall_at(memory, user, mode=mode, k=10)
        print(mode, result)
    assert fx.recall_at(memory, user, mode="hybrid", k=10)["recall"] == 1.0
