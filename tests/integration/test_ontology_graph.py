"""Ontologies against the real Neo4j, with a scripted LLM: strict mode rejects with reasons,
inverses are stored as their relation, a `one` relation invalidates with no LLM call, a
`many` relation keeps both values, a search by a type finds its subtypes, and the CLI and
environment pick the ontology up."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from graphmem import ConfigError, GraphMemory, Ontology, load_ontology
from graphmem._models import Entity, ExtractionInput, GraphExtraction, Triplet
from graphmem.llm import ScriptedLLM

pytestmark = pytest.mark.neo4j

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "ontologies"
SUPPORT = load_ontology(EXAMPLES / "customer_support.yaml")
GRAPHMEM = str(Path(sys.executable).parent / "graphmem")
T0 = datetime(2025, 1, 1, tzinfo=UTC)

# what the scripted model answers for each turn: (source, source type, relation, target, target type)
ANSWERS: dict[str, list[tuple[str, str, str, str, str]]] = {
    "I work for Initech.": [("Ana", "Customer", "works_for", "Initech", "Company")],
    "I now work for Acme.": [("Ana", "Customer", "works_for", "Acme", "Company")],
    "We bought the Basic plan.": [("Ana", "Customer", "owns", "Basic plan", "Product")],
    "We bought the Pro plan too.": [("Ana", "Customer", "owns", "Pro plan", "Product")],
    "Ticket 12 is mine.": [("Ticket 12", "Ticket", "opened_by", "Ana", "Customer")],
    "I love green tea.": [("Ana", "Customer", "likes", "green tea", "Food")],
}
TURNS = list(ANSWERS)


def answer(source: ExtractionInput) -> GraphExtraction:
    rows = [row for m in source.messages for row in ANSWERS[m.content]]
    return GraphExtraction(
        triplets=[Triplet(source=s, source_type=st, relation=r, target=t, target_type=tt) for s, st, r, t, tt in rows]
    )


def invalidate_same_relation(request):
    """What a model answers: a new employer replaces the old one; anything else is added."""
    decisions = []
    for item in request.items:
        rivals = [f.id for f in item.candidates if f.relation == item.new.relation == "works_for"]
        decisions.append({"index": item.index, "action": "invalidate" if rivals else "add", "existing_ids": rivals})
    return {"decisions": decisions}


def ingest(memory: GraphMemory, user: str) -> list:
    return [
        memory.add({"role": "user", "name": "Ana", "content": turn}, user_id=user, timestamp=T0 + timedelta(days=i))
        for i, turn in enumerate(TURNS)
    ]


def test_strict_ontology_fits_rejects_and_decides_without_the_llm(make_memory, new_user):
    user = new_user("onto")
    llm = ScriptedLLM(graph=answer, resolve=invalidate_same_relation)
    memory = make_memory(llm, single_pass=True, ontology=SUPPORT)
    results = ingest(memory, user)

    assert llm.calls_of("resolve") == []  # the declarations decided every conflict
    assert [f.target for f in results[1].invalidated] == ["Initech"]  # works_for is `one`
    facts = {(f.source, f.relation, f.target): f for f in memory.get_all(user_id=user, include_invalidated=True)}
    assert facts[("Ana", "works_for", "Initech")].valid_to is not None
    assert facts[("Ana", "works_for", "Acme")].valid_to is None
    # owns is `many`: both plans stay valid
    assert facts[("Ana", "owns", "Basic plan")].is_valid and facts[("Ana", "owns", "Pro plan")].is_valid
    # the inverse is stored as the declared relation, ends swapped
    assert ("Ana", "opened", "Ticket 12") in facts and not any(r == "opened_by" for _, r, _ in facts)
    # strict: an undeclared relation is rejected with its reason, not stored
    [rejected] = results[5].rejected
    assert rejected.triplet.relation == "likes" and "not declared in ontology 'customer-support'" in rejected.reason
    assert not any(r == "likes" for _, r, _ in facts)
    # what was rejected is not lost: the turn itself is stored and found
    assert "green tea" in " ".join(e.episode.content for e in memory.search("tea", user_id=user).episodes)

    # the ontology's types reach the nodes, and a search by the parent type finds the subtype
    assert facts[("Ana", "works_for", "Acme")].source_type == "Customer"
    by_parent = memory.search("Where does Ana work?", user_id=user, mode="hybrid", entity_types=["Person"])
    assert any(h.fact.relation == "works_for" for h in by_parent)
    by_inverse = memory.search("Who employs Ana?", user_id=user, mode="hybrid", relations=["employs"])
    assert by_inverse and {h.fact.relation for h in by_inverse} == {"works_for"}


def test_without_an_ontology_the_llm_resolves_the_same_contradiction(make_memory, new_user):
    user = new_user("noonto")
    llm = ScriptedLLM(graph=answer, resolve=invalidate_same_relation)
    memory = make_memory(llm, single_pass=True)
    results = ingest(memory, user)
    # today's behaviour: each add with candidates asks the model (the employer change, the
    # second plan), and nothing is rejected
    assert len(llm.calls_of("resolve")) >= 2
    assert [f.target for f in results[1].invalidated] == ["Initech"]
    assert all(not r.rejected for r in results)
    facts = {(f.source, f.relation, f.target) for f in memory.get_all(user_id=user)}
    assert ("Ticket 12", "opened_by", "Ana") in facts and ("Ana", "likes", "green tea") in facts
    assert not memory.search("Where does Ana work?", user_id=user, mode="hybrid", entity_types=["Person"])


def test_add_triplets_follows_the_same_rules(make_memory, new_user):
    user = new_user("ontotrip")
    memory = make_memory(ScriptedLLM(), ontology=SUPPORT)
    result = memory.add_triplets(
        [
            {"source": "Ana", "source_type": "Customer", "relation": "works_for", "target": "Acme"},
            {
                "source": "Ana",
                "source_type": "Customer",
                "relation": "works_for",
                "target": "Ticket 9",
                "target_type": "Ticket",
            },
            {"source": "Ana", "relation": "hates", "target": "queues"},
        ],
        user_id=user,
    )
    assert [(f.relation, f.target, f.target_type) for f in result.added] == [("works_for", "Acme", "Company")]
    assert [r.reason for r in result.rejected] == [
        "works_for wants a target of Company; 'Ticket 9' has type Ticket",
        "relation 'hates' is not declared in ontology 'customer-support' "
        "(declared: works_for, owns, on_plan, opened, about, assigned_to)",
    ]


def test_the_environment_and_the_cli_pick_the_ontology_up(cli_env, new_user, tmp_path: Path):
    user = new_user("onticli")
    transcript = tmp_path / "t.jsonl"
    transcript.write_text(
        "\n".join(
            json.dumps({"role": "user", "name": "Maya", "content": c}) for c in ["I live in Paris.", "I love tea."]
        )
    )
    run = [GRAPHMEM, "ingest", str(transcript), "--user", user, "--json"]
    env = {**cli_env, "GRAPHMEM_LLM_PROVIDER": "offline"}
    strict = subprocess.run(
        [*run, "--ontology", str(EXAMPLES / "customer_support.yaml")], env=env, capture_output=True, text=True
    )
    assert strict.returncode == 0, strict.stderr
    assert json.loads(strict.stdout)["rejected"] == 2  # lives_in and likes are not support facts
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[[relations]]\nname = "Lives In"\n')
    refused = subprocess.run([*run, "--ontology", str(bad)], env=env, capture_output=True, text=True)
    assert refused.returncode == 4 and f"{bad}:3: relations[0].name" in refused.stderr
    shown = subprocess.run(
        [GRAPHMEM, "ontology", "show", "--json"],
        env={**env, "GRAPHMEM_ONTOLOGY": "personal"},
        capture_output=True,
        text=True,
    )
    assert shown.returncode == 0 and json.loads(shown.stdout)["name"] == "personal"


def test_from_env_refuses_a_bad_ontology_before_connecting(tmp_path: Path):
    with pytest.raises(ConfigError, match="does not exist"):
        GraphMemory.from_env(ontology=str(tmp_path / "missing.toml"), neo4j_uri="bolt://127.0.0.1:1")


def test_init_records_the_ontology_and_warns_when_it_changes(cli_env):
    def init(ontology: str | None) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in cli_env.items() if k != "GRAPHMEM_ONTOLOGY"}
        if ontology:
            env["GRAPHMEM_ONTOLOGY"] = ontology
        done = subprocess.run([GRAPHMEM, "init"], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done

    init(None)  # the shared test database is left as it was found: no ontology
    try:
        first = init("personal")
        assert "written under no ontology, and is now under ontology 'personal'" in " ".join(first.stderr.split())
        assert "ontology 'personal' (open, fingerprint" in first.stdout
        again = init("personal")
        assert "warning" not in again.stderr
        changed = init(str(EXAMPLES / "customer_support.yaml"))
        assert "is now under ontology 'customer-support'" in " ".join(changed.stderr.split())
    finally:
        init(None)


def test_declared_attributes_are_stored_typed_on_the_node(make_memory, new_user, store):
    crm = Ontology.model_validate(
        {
            "name": "crm",
            "entity_types": [
                {"name": "Customer", "attributes": {"seats": {"type": "integer"}, "renewal": {"type": "date"}}},
                {"name": "Company"},
            ],
            "relations": [{"name": "works_for", "source": ["Customer"], "target": ["Company"]}],
        }
    )
    said = {"We have 40 seats, renewing 2026-03-01.": "40", "We grew to 55 seats.": "55"}

    def answer(source: ExtractionInput) -> GraphExtraction:
        seats = said[source.messages[0].content]
        ana = Entity.model_validate(
            {
                "name": "Ana",
                "type": "Customer",
                "attributes": [{"name": "seats", "value": seats}, {"name": "renewal", "value": "2026-03-01"}],
            }
        )
        works = Triplet(
            source="Ana", source_type="Customer", relation="works_for", target="Acme", target_type="Company"
        )
        return GraphExtraction(entities=[ana], triplets=[works])

    user = new_user("ontoattr")
    memory = make_memory(ScriptedLLM(graph=answer), single_pass=True, ontology=crm)
    for turn in said:
        result = memory.add({"role": "user", "name": "Ana", "content": turn}, user_id=user)
        assert result.rejected == []
    [node] = store.run_text(
        "MATCH (n:Entity {user_id: $u, normalized: 'ana'}) RETURN n.seats AS seats, n.renewal AS renewal, labels(n) AS labels",
        {"u": user},
    )
    assert node["seats"] == 55 and str(node["renewal"]) == "2026-03-01" and "Customer" in node["labels"]
