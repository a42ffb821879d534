"""Associative recall against the real Neo4j: episodes (stored turns) are memory, the default
search answers 2- and 3-hop questions, a hub does not swamp it, keyword search stems, and a
graph of the previous schema gains what it lacks through `graphmem init`."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from graphmem import GraphMemory, Scope
from graphmem._terms import STEMMER, stem_text
from graphmem.cli import app
from graphmem.search.recipes import MODES
from graphmem.search.retrieve import Retriever

pytestmark = pytest.mark.neo4j


def _t(source, relation, target, fact, source_type="Person", target_type="Person"):
    return {
        "source": source,
        "source_type": source_type,
        "relation": relation,
        "target": target,
        "target_type": target_type,
        "fact": fact,
    }


# Two families with look-alike names; every person works somewhere and lives somewhere.
FAMILY = [
    _t("Jonas Weber", "brother_of", "Lena Fischer", "Jonas Weber is Lena Fischer's brother."),
    _t("Lena Fischer", "works_at", "Acme", "Lena Fischer works at Acme.", target_type="Organization"),
    _t("Jonas Weber", "works_at", "Bosch", "Jonas Weber works at Bosch.", target_type="Organization"),
    _t("Lena Fischer", "lives_in", "Berlin", "Lena Fischer lives in Berlin.", target_type="City"),
    _t("Jonas Weber", "lives_in", "Munich", "Jonas Weber lives in Munich.", target_type="City"),
    _t("Jonas Weber", "married_to", "Sofia Weber", "Jonas Weber is married to Sofia Weber."),
    _t("Sofia Weber", "works_at", "Siemens", "Sofia Weber works at Siemens.", target_type="Organization"),
    _t("Sofia Weber", "plays", "cello", "Sofia Weber plays the cello.", target_type="Instrument"),
    _t("Lena Fischer", "plays", "violin", "Lena Fischer plays the violin.", target_type="Instrument"),
    _t("Lena Fisher", "works_at", "Globex", "Lena Fisher works at Globex.", target_type="Organization"),
    _t("Tom Fisher", "brother_of", "Lena Fisher", "Tom Fisher is Lena Fisher's brother."),
    _t("Tom Fisher", "works_at", "Initech", "Tom Fisher works at Initech.", target_type="Organization"),
    _t("Anna Weber", "sister_of", "Lena Fischer", "Anna Weber is Lena Fischer's sister."),
    _t("Anna Weber", "plays", "flute", "Anna Weber plays the flute.", target_type="Instrument"),
]


def key(hit):
    return (hit.fact.source, hit.fact.relation, hit.fact.target)


@pytest.fixture
def family(memory: GraphMemory, new_user) -> str:
    user = new_user("family")
    memory.add_triplets(FAMILY, user_id=user)
    return user


@pytest.mark.parametrize("path", ["scan", "shared"])
def test_two_and_three_hop_chains_rank_first(memory: GraphMemory, family: str, path: str) -> None:
    retriever = memory.retriever if path == "scan" else Retriever(memory.queries, memory.embedder, scan_max=0)
    scope = Scope(user_id=family)
    cases = {
        "Where does Lena Fischer's brother work?": ("Jonas Weber", "works_at", "Bosch"),
        "Which instrument does the sister of Lena Fischer play?": ("Anna Weber", "plays", "flute"),
        "Where does the wife of Lena Fischer's brother work?": ("Sofia Weber", "works_at", "Siemens"),
        "Where does Lena Fischer work?": ("Lena Fischer", "works_at", "Acme"),  # 1 hop stays direct
    }
    for question, answer in cases.items():
        hits = retriever.search(question, scope)
        assert key(hits[0]) == answer, (question, [key(h) for h in hits[:3]])
    chain = retriever.search("Where does the wife of Lena Fischer's brother work?", scope)[0]
    assert chain.hops == 3 and len(chain.via) == 2 and "graph" in chain.signals


def test_a_look_alike_name_does_not_answer(memory: GraphMemory, family: str) -> None:
    hits = memory.search("Where does Lena Fisher's brother work?", user_id=family)
    assert key(hits[0]) == ("Tom Fisher", "works_at", "Initech")


@pytest.mark.parametrize("hub_scan", [200, 100])
def test_a_hub_does_not_swamp_the_results(memory: GraphMemory, new_user, hub_scan: int) -> None:
    # hub_scan 100: Maya's 151 facts are not scanned; her facts come from the other lists
    memory.retriever.graph_hub_scan = hub_scan
    user = new_user("hub")
    # the speaker's own node holds 150 facts, each mentioning work, all near the question
    hub = [_t("Maya", "knows", f"Colleague{i}", f"Maya knows Colleague{i} from work.") for i in range(150)]
    memory.add_triplets(
        hub
        + [
            _t("Leo", "brother_of", "Maya", "Leo is Maya's brother."),
            _t("Leo", "works_at", "Iberia", "Leo works at Iberia.", target_type="Organization"),
        ],
        user_id=user,
    )
    hits = memory.search("Where does Maya's brother work?", user_id=user, limit=5)
    assert key(hits[0]) == ("Leo", "works_at", "Iberia"), [key(h) for h in hits]


def test_episodes_recall_what_no_fact_holds(memory: GraphMemory, new_user) -> None:
    user = new_user("episodes")
    early = datetime(2025, 1, 5, tzinfo=UTC)
    late = datetime(2025, 6, 5, tzinfo=UTC)
    first = memory.add(
        {"role": "user", "name": "Maya", "content": "My favourite band is Radiohead.", "timestamp": early.isoformat()},
        user_id=user,
    )
    assert first.added == []  # the offline extractor makes no fact of it
    memory.add(
        {
            "role": "user",
            "name": "Maya",
            "content": "I'm training for a marathon in October.",
            "timestamp": late.isoformat(),
        },
        user_id=user,
    )
    memory.add({"role": "user", "name": "Maya", "content": "I live in Paris."}, user_id=user)

    results = memory.search("which band does Maya like?", user_id=user)
    assert results.episodes and "Radiohead" in results.episodes[0].episode.content
    top = results.episodes[0]
    assert (
        top.episode.speaker == "Maya" and top.episode.timestamp == early and set(top.signals) <= {"vector", "keyword"}
    )

    only = memory.search("running a marathon", user_id=user, mode="episode")
    assert list(only) == [] and "marathon" in only.episodes[0].episode.content
    assert memory.search("marathon", user_id=user, episodes=0).episodes == []
    # as_of: a turn said later is not returned
    before = memory.search("marathon training", user_id=user, mode="episode", as_of=datetime(2025, 3, 1, tzinfo=UTC))
    assert before.episodes, "the turn said before as_of (Radiohead) is still found"
    assert all("marathon" not in e.episode.content for e in before.episodes)
    assert all(e.episode.timestamp <= datetime(2025, 3, 1, tzinfo=UTC) for e in before.episodes)


def test_a_fact_leads_to_its_turns_and_context_renders_both(memory: GraphMemory, new_user) -> None:
    user = new_user("sources")
    memory.add({"role": "user", "name": "Maya", "content": "I live in Paris."}, user_id=user)
    memory.add({"role": "user", "name": "Maya", "content": "My favourite band is Radiohead."}, user_id=user)
    results = memory.search("Where does Maya live?", user_id=user)
    [turn] = memory.sources(results[0], user_id=user)
    assert turn.content == "I live in Paris." and turn.id in results[0].fact.message_ids
    assert memory.sources(results[0], user_id="somebody-else") == []
    context = results.to_context(max_tokens=400)
    facts_part, turns_part = context.split("Relevant conversation turns:")
    assert "Maya lives in Paris" in facts_part and "Maya: I live in Paris." in turns_part
    assert "Relevant conversation turns" not in results.to_context(max_tokens=12)


def test_one_embedding_call_per_add_with_the_turns_in_it(make_memory, new_user) -> None:
    memory = make_memory()
    calls: list[list[str]] = []
    embed = memory.embedder.embed

    def counting(texts):
        calls.append(list(texts))
        return embed(texts)

    memory.embedder.embed = counting  # type: ignore[method-assign]
    try:
        memory.add(
            [{"role": "user", "content": "I live in Rome."}, {"role": "user", "content": "I love jazz."}],
            user_id=new_user("embed"),
        )
    finally:
        del memory.embedder.embed
    assert len(calls) == 1 and {"I live in Rome.", "I love jazz."} <= set(calls[0])


@pytest.mark.parametrize("path", ["scan", "shared"])
def test_keyword_search_stems(memory: GraphMemory, new_user, path: str) -> None:
    user = new_user("stem")
    memory.add_triplets(
        [_t("Jonas", "works_at", "Bosch", "Jonas works at Bosch.", target_type="Organization")], user_id=user
    )
    memory.add({"role": "user", "content": "Yesterday I worked late on the budget."}, user_id=user)
    retriever = memory.retriever if path == "scan" else Retriever(memory.queries, memory.embedder, scan_max=0)
    for query in ("who is working", "worked", "work"):
        hits = retriever.search(query, Scope(user_id=user), mode="keyword")
        assert [key(h) for h in hits] == [("Jonas", "works_at", "Bosch")], (path, query)
    turns = retriever.search("working", Scope(user_id=user), mode="episode").episodes
    assert any("worked late" in t.episode.content and "keyword" in t.signals for t in turns), path


def test_search_json_and_tables_carry_both(memory: GraphMemory, new_user, cli_env) -> None:
    user = new_user("cli")
    memory.add({"role": "user", "name": "Maya", "content": "I live in Paris."}, user_id=user)
    memory.add({"role": "user", "name": "Maya", "content": "My favourite band is Radiohead."}, user_id=user)
    result = CliRunner().invoke(app, ["search", "Radiohead band", "--user", user, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"facts", "episodes"}
    assert any("Radiohead" in e["episode"]["content"] for e in data["episodes"])
    table = CliRunner().invoke(app, ["search", "where does Maya live", "--user", user], catch_exceptions=False)
    assert "associative search" in table.output and "conversation turns" in table.output
    assert "Paris" in table.output


def test_every_mode_is_accepted(memory: GraphMemory, family: str) -> None:
    for mode in MODES:
        results = memory.search("Lena Fischer", user_id=family, mode=mode)
        assert mode == "episode" or results, mode


def test_init_migrates_a_graph_of_the_previous_schema(store, new_user, cli_env) -> None:
    """Schema 1: turns without embeddings, full-text indexes on the standard analyzer. `graphmem
    init` stems the indexes and embeds the turns with a progress bar; a second run has
    nothing left to do."""
    user = new_user("old")
    store.run_text(
        "UNWIND range(1, 300) AS i CREATE (:Message {id: $u + '-' + toString(i), user_id: $u, role: 'user', "
        "speaker: 'Maya', content: 'I went bouldering with Jonas, turn ' + toString(i), "
        "timestamp: datetime('2025-01-01T00:00:00Z')})",
        {"u": user},
        write=True,
    )
    # schema 2 stored a fact's relation name as `predicate`
    store.run_text(
        "CREATE (:Entity {id: $u + '-maya', user_id: $u, name: 'Maya', normalized: 'maya', type: 'Person'})"
        "-[:FACT {id: $u + '-f', user_id: $u, predicate: 'climbs_with', fact: 'Maya climbs with Jonas', "
        "valid_from: datetime('2025-01-01T00:00:00Z'), created_at: datetime('2025-01-01T00:00:00Z'), mentions: 1}]->"
        "(:Entity {id: $u + '-jonas', user_id: $u, name: 'Jonas', normalized: 'jonas', type: 'Person'})",
        {"u": user},
        write=True,
    )
    store.run_text("DROP INDEX fact_text IF EXISTS", write=True)
    store.run_text("CREATE FULLTEXT INDEX fact_text FOR ()-[f:FACT]-() ON EACH [f.fact, f.predicate]", write=True)
    store.run_text("MATCH (s:GraphmemSchema {name: 'graphmem'}) SET s.version = 1", write=True)

    first = CliRunner().invoke(app, ["init"], catch_exceptions=False)
    assert first.exit_code == 0, first.output
    # at least this user's 300 (a shared test database may hold older turns of other scopes)
    updated = re.search(r"([\d,]+) stored turns updated", first.output)
    assert updated and int(updated.group(1).replace(",", "")) >= 300, first.output
    # stemmed, and eventually consistent (schema 6): the old fact_text was neither
    analyzers = {
        r["name"]: (r["analyzer"], r["eventually_consistent"])
        for r in store.run("schema_indexes", {"names": ["fact_text", "entity_name", "message_text"]})
    }
    assert analyzers == {name: ("english", True) for name in ("fact_text", "entity_name", "message_text")}
    [fact] = store.run_text(
        "MATCH ()-[f:FACT {id: $id}]->() RETURN f.relation AS relation, f.predicate AS old", {"id": f"{user}-f"}
    )
    assert fact == {"relation": "climbs_with", "old": None}
    climbing = CliRunner().invoke(
        app, ["search", "climbs_with", "--user", user, "--mode", "keyword", "--json"], catch_exceptions=False
    )
    assert [h["fact"]["relation"] for h in json.loads(climbing.output)["facts"]] == ["climbs_with"], climbing.output
    missing = store.run_text(
        "MATCH (m:Message {user_id: $u}) WHERE m.embedding IS NULL OR m.stems IS NULL RETURN count(m) AS n", {"u": user}
    )[0]["n"]
    assert missing == 0
    again = CliRunner().invoke(app, ["init"], catch_exceptions=False)
    assert again.exit_code == 0 and "stored turns updated" not in again.output
    # turns stemmed by an earlier stemmer (nltk's Porter before 2026-12-01) are re-stemmed only
    store.run_text(
        "MATCH (m:Message {user_id: $u}) WITH m ORDER BY m.id LIMIT 10 "
        "SET m.stemmer = 'nltk-porter', m.stems = ' stale ', m.kept = m.embedding",
        {"u": user},
        write=True,
    )
    restemmed = CliRunner().invoke(app, ["init"], catch_exceptions=False)
    assert "10 stored turns updated" in restemmed.output, restemmed.output
    rows = store.run_text(
        "MATCH (m:Message {user_id: $u}) WHERE m.kept IS NOT NULL "
        "RETURN m.stems AS stems, m.stemmer AS stemmer, m.kept = m.embedding AS same_vector",
        {"u": user},
    )
    assert len(rows) == 10
    assert all(r["stems"].startswith(stem_text("I went bouldering with Jonas, turn")[:-1]) for r in rows), rows
    assert all(r["stemmer"] == STEMMER and r["same_vector"] for r in rows)
    found = CliRunner().invoke(
        app, ["search", "climbing bouldering", "--user", user, "--mode", "episode", "--json"], catch_exceptions=False
    )
    assert json.loads(found.output)["episodes"], found.output


def test_associative_search_costs_a_round_trip_per_hop_and_no_llm_call(memory: GraphMemory, family: str) -> None:
    from graphmem import Usage

    # a scope's first search in the process: four lists at once (scanned in Neo4j; the scope
    # loads into the scope cache after), one fetch per hop, and one for the top
    # facts no list returned whole
    assert memory.cache is not None
    usage = Usage()
    memory.search("Where does the wife of Lena Fischer's brother work?", user_id=family, usage=usage)
    assert 4 + 3 <= usage.neo4j_round_trips <= 4 + 3 + 1 and usage.llm_calls == 0, usage
    memory.cache.wait()
    # then one statement for all four lists, ranked from the scope cache
    for question in ("Where does the wife of Lena Fischer's brother work?", "violin"):
        usage = Usage()
        memory.search(question, user_id=family, usage=usage)
        assert 1 + 3 <= usage.neo4j_round_trips <= 1 + 3 + 1 and usage.llm_calls == 0, (question, usage)
    usage = Usage()
    memory.search("violin", user_id=family, episodes=0, hops=1, usage=usage)
    assert 1 + 1 <= usage.neo4j_round_trips <= 1 + 1 + 1
    # hybrid: one statement, nothing else
    usage = Usage()
    memory.search("violin", user_id=family, mode="hybrid", usage=usage)
    assert usage.neo4j_round_trips == 1, usage


def test_the_demo_answers_its_two_part_question_in_the_top_three(cli_env, scope_ids) -> None:
    user = f"test-demo-{uuid.uuid4().hex[:8]}"
    scope_ids.append(user)
    result = CliRunner().invoke(app, ["demo", "--user", user], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    answer = result.output.split("Q:")[1]
    facts = [line for line in answer.splitlines() if line.startswith("- [")][:5]
    assert any("Anna works at Siemens" in line for line in facts[:3]), answer  # the target
    assert any("Maya lives in London" in line for line in facts), answer
    assert "Relevant conversation turns:" in answer
