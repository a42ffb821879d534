"""Ontologies without Neo4j: files and their errors, fitting triplets to the declarations, the
decisions the declarations make alone, and the prompts and schemas that carry them."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graphmem import ConfigError, Ontology
from graphmem._models import (
    ConflictCandidate,
    ConflictSet,
    Entity,
    EntityExtraction,
    ExtractionInput,
    Fact,
    Message,
    Rejection,
    RelationExtraction,
    Triplet,
    Usage,
)
from graphmem.cli import app
from graphmem.llm import ScriptedLLM
from graphmem.llm._prompts import constrain_schema, entity_prompt, graph_prompt, relation_prompt
from graphmem.llm.offline import SINGLE_VALUED
from graphmem.llm.openai import strict_schema
from graphmem.ontology.files import load_ontology, parse_ontology
from graphmem.ontology.model import change_warning
from graphmem.ontology.style import browser_style
from graphmem.write.conform import conform, fit
from graphmem.write.resolve import UpdateResolver, by_ontology

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "ontologies"
NOW = datetime(2025, 1, 1, tzinfo=UTC)

SUPPORT = Ontology.model_validate(
    {
        "name": "support",
        "mode": "strict",
        "custom_instructions": "Tickets are named by their number.",
        "entity_types": [
            {"name": "Person"},
            {"name": "Customer", "parent": "Person", "description": "Buys from us."},
            {"name": "Ticket"},
            {"name": "Product"},
            {"name": "Company"},
        ],
        "relations": [
            {"name": "opened", "source": ["Customer"], "target": ["Ticket"], "inverse": "opened_by"},
            {
                "name": "works_for",
                "source": ["Person"],
                "target": ["Company"],
                "cardinality": "one",
                "inverse": "employs",
            },
            {"name": "owns", "source": ["Customer", "Company"], "target": ["Product"]},
            {"name": "knows", "source": ["Person"], "target": ["Person"], "symmetric": True},
        ],
    }
)


def test_the_example_files_load_and_the_builtin_holds_the_offline_tables():
    assert load_ontology(EXAMPLES / "customer_support.yaml").mode == "strict"
    assert load_ontology(EXAMPLES / "personal_assistant.toml").mode == "open"
    personal = load_ontology("personal")
    assert {"lives_in", "works_at", "works_as", "name", "age", "married_to"} == SINGLE_VALUED
    assert {r.name for r in personal.relations if r.cardinality == "one"} == SINGLE_VALUED
    assert personal.with_subtypes(["Place"]) == ["Place", "City", "Country"]


BAD_TOML = """\
name = "bad"

[[entity_types]]
name = "Customer"

[[entity_types]]
name = "support agent"

[[entity_types]]
name = "Customer"

[[relations]]
name = "opened"
source = ["Customer"]
target = ["Tiket"]

[[relations]]
name = "opened"
cardinality = "one"
"""


def test_a_bad_file_names_the_file_line_type_or_relation_and_the_problem():
    with pytest.raises(ConfigError) as caught:
        parse_ontology(BAD_TOML, Path("bad.toml"))
    message = str(caught.value)
    assert "bad.toml:7: entity_types[1].name (type 'support agent')" in message
    assert "for example 'SupportAgent'" in message
    assert "bad.toml:10: entity_types[2].name (type 'Customer'): type 'Customer' is declared twice" in message
    assert "bad.toml:15: relations[0].target[0] (relation 'opened')" in message and "'Tiket'" in message
    assert "bad.toml:18: relations[1].name (relation 'opened'): relation 'opened' is declared twice" in message


def test_shape_errors_in_yaml_name_their_line():
    text = "name: x\nrelations:\n  - name: r\n    cardinality: several\n"
    with pytest.raises(ConfigError, match=r"x.yaml:4: relations\[0\].cardinality \(relation 'r'\).*'one' or 'many'"):
        parse_ontology(text, Path("x.yaml"))
    with pytest.raises(ConfigError, match=r"x.yaml:4: relations\[0\].colour \(relation .r.\): Extra inputs"):
        parse_ontology("name: x\nrelations:\n  - name: r\n    colour: red\n", Path("x.yaml"))


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"entity_types": [{"name": "A", "parent": "B"}, {"name": "B", "parent": "A"}]}, "parent cycle"),
        ({"entity_types": [{"name": "A", "attributes": {"embedding": {}}}]}, "property graphmem keeps"),
        ({"entity_types": [{"name": "A", "attributes": {"Bad-Name": {}}}]}, "must be snake_case"),
        ({"relations": [{"name": "r", "inverse": "r"}]}, "cannot be its own inverse"),
        ({"relations": [{"name": "r", "symmetric": True, "inverse": "s"}]}, "drop `inverse`"),
        ({"relations": [{"name": "r", "inverse": "s"}, {"name": "s"}]}, "declared as a relation of its own"),
        ({"relations": [{"name": "r) DETACH DELETE n //"}]}, "cannot be stored as a relation name"),
        ({"entity_types": [{"name": "`A`:B"}]}, "cannot be stored as a type name"),
    ],
)
def test_names_and_references_that_cannot_hold_are_refused(data: dict, problem: str):
    with pytest.raises(ValueError, match=problem):
        Ontology.model_validate({"name": "x", **data})


def test_an_inverse_declared_both_ways_is_accepted():
    both = Ontology.model_validate(
        {
            "name": "x",
            "entity_types": [{"name": "P"}, {"name": "Q"}],
            "relations": [
                {"name": "r", "source": ["P"], "target": ["Q"], "inverse": "s"},
                {"name": "s", "source": ["Q"], "target": ["P"], "inverse": "r"},
            ],
        }
    )
    assert both.inverses == {}  # each is a relation of its own: nothing to read back


def t(source: str, relation: str, target: str, st: str = "Entity", tt: str = "Entity") -> Triplet:
    return Triplet(source=source, source_type=st, relation=relation, target=target, target_type=tt)


def test_an_inverse_is_read_back_into_its_relation_with_the_ends_swapped():
    fitted = fit(SUPPORT, t("Ticket 12", "opened_by", "Ana", "Ticket", "Customer"))
    assert isinstance(fitted, Triplet)
    assert (fitted.source, fitted.relation, fitted.target) == ("Ana", "opened", "Ticket 12")
    assert (fitted.source_type, fitted.target_type) == ("Customer", "Ticket")


def test_types_are_narrowed_only_when_one_type_fits():
    # a subtype passes as it is; a generic type is narrowed to the one allowed type; a parent to its one child
    assert fit(SUPPORT, t("Ana", "works_for", "Acme", "Customer", "Company")).source_type == "Customer"  # type: ignore[union-attr]
    narrowed = fit(SUPPORT, t("Ana", "opened", "Ticket 12", "Person", "Entity"))
    assert isinstance(narrowed, Triplet) and (narrowed.source_type, narrowed.target_type) == ("Customer", "Ticket")
    # owns allows Customer or Company: an untyped source is ambiguous
    ambiguous = fit(SUPPORT, t("Ana", "owns", "Pro plan", "Entity", "Product"))
    assert isinstance(ambiguous, Rejection)
    assert ambiguous.reason == "owns wants a source of Customer or Company; 'Ana' has type Entity"


def test_strict_mode_rejects_what_is_not_declared_with_a_reason():
    undeclared = fit(SUPPORT, t("Ana", "likes", "tea", "Customer", "Food"))
    assert isinstance(undeclared, Rejection)
    assert undeclared.reason.startswith("relation 'likes' is not declared in ontology 'support'")
    wrong = fit(SUPPORT, t("Ana", "works_for", "Ticket 9", "Customer", "Ticket"))
    assert (
        isinstance(wrong, Rejection)
        and "works_for wants a target of Company; 'Ticket 9' has type Ticket" in wrong.reason
    )


def test_open_mode_keeps_what_it_does_not_declare_but_still_checks_declared_types():
    open_ = SUPPORT.model_copy(update={"mode": "open"})
    kept = fit(open_, t("Ana", "likes", "tea", "Customer", "Food"))
    assert isinstance(kept, Triplet) and kept.relation == "likes"
    assert isinstance(fit(open_, t("Ana", "works_for", "Acme", "Customer", "Startup")), Triplet)
    assert isinstance(fit(open_, t("Ana", "works_for", "Ticket 9", "Customer", "Ticket")), Rejection)


def test_an_end_typed_by_another_triplet_of_the_add_takes_that_type():
    out = conform(
        SUPPORT,
        [],
        [t("Acme", "employs", "Ana", "Company", "Entity"), t("Ana", "owns", "Pro plan", "Entity", "Product")],
    )
    assert out.rejected == []
    assert [(x.source, x.source_type, x.relation) for x in out.triplets] == [
        ("Ana", "Person", "works_for"),  # the one type works_for allows
        ("Ana", "Customer", "owns"),  # owns allows Customer or Company: of those, only Customer is a Person
    ]
    assert [(e.name, e.type) for e in out.entities if e.name == "Ana"] == [("Ana", "Customer")]
    alone = conform(SUPPORT, [], [t("Ana", "owns", "Pro plan", "Entity", "Product")])
    assert len(alone.rejected) == 1


def test_conform_types_the_entities_as_their_triplets_do():
    out = conform(
        SUPPORT,
        [Entity(name="Ana", type="Person"), Entity(name="Ticket 12", type="Entity")],
        [t("Ana", "opened", "Ticket 12", "Person", "Entity"), t("Ana", "likes", "tea")],
    )
    assert [(e.name, e.type) for e in out.entities] == [("Ana", "Customer"), ("Ticket 12", "Ticket")]
    assert [r.triplet.relation for r in out.rejected] == ["likes"]


def _fact(fid: str, relation: str, target: str, source_id: str = "ana", target_id: str | None = None) -> Fact:
    return Fact(
        id=fid,
        source="Ana",
        source_type="Customer",
        relation=relation,
        target=target,
        target_type="Company",
        fact=f"Ana {relation} {target}",
        valid_from=NOW,
        created_at=NOW,
        source_id=source_id,
        target_id=target_id or target.lower(),
    )


def conflict(relation: str, target: str, *candidates: ConflictCandidate) -> ConflictSet:
    return ConflictSet(
        index=0,
        triplet=t("Ana", relation, target),
        source_id="ana",
        target_id=target.lower(),
        candidates=list(candidates),
    )


def test_a_new_value_of_a_one_relation_invalidates_the_old_without_the_llm():
    old = ConflictCandidate(fact=_fact("f1", "works_for", "Initech"), reason="same_relation", similarity=1.0)
    decision, left = by_ontology(conflict("works_for", "Acme", old), SUPPORT)
    assert decision is not None and (decision.action, decision.existing_ids, left) == ("invalidate", ["f1"], [])
    # without an ontology the same conflict goes to the LLM
    assert by_ontology(conflict("works_for", "Acme", old), None) == (None, [old])


def test_a_many_relation_never_invalidates_on_its_own_but_a_similar_sentence_still_asks():
    other = ConflictCandidate(fact=_fact("f1", "owns", "Basic plan"), reason="same_relation", similarity=1.0)
    decision, _ = by_ontology(conflict("owns", "Pro plan", other), SUPPORT)
    assert decision is not None and decision.action == "add"
    similar = ConflictCandidate(fact=_fact("f2", "owns", "Pro", source_id="acme"), reason="similar_fact")
    undeclared = ConflictCandidate(fact=_fact("f3", "bought", "Pro plan"), reason="similar_relation")
    decision, left = by_ontology(conflict("owns", "Pro plan", other, similar, undeclared), SUPPORT)
    assert decision is None and [c.fact.id for c in left] == ["f2", "f3"]


def test_a_symmetric_fact_stored_the_other_way_is_a_restatement():
    mirrored = ConflictCandidate(fact=_fact("f1", "knows", "Bo", source_id="bo", target_id="ana"), reason="same_pair")
    c = ConflictSet(index=0, triplet=t("Ana", "knows", "Bo"), source_id="ana", target_id="bo", candidates=[mirrored])
    decision, _ = by_ontology(c, SUPPORT)
    assert decision is not None and (decision.action, decision.existing_ids) == ("noop", ["f1"])


def test_the_resolver_asks_the_llm_only_about_what_the_ontology_leaves():
    old = ConflictCandidate(fact=_fact("f1", "works_for", "Initech"), reason="same_relation", similarity=1.0)
    undeclared = ConflictCandidate(fact=_fact("f2", "employed_by", "Initech"), reason="same_relation")
    conflicts = [
        conflict("works_for", "Acme", old),
        ConflictSet(
            index=1, triplet=t("Ana", "employed_by", "Acme"), source_id="ana", target_id="acme", candidates=[undeclared]
        ),
    ]
    llm = ScriptedLLM(resolve=[{"decisions": [{"index": 1, "action": "invalidate", "existing_ids": ["f2"]}]}])
    usage = Usage()
    decisions = UpdateResolver(llm, SUPPORT).resolve(conflicts, usage)
    assert [(d.action, d.existing_ids) for d in decisions] == [("invalidate", ["f1"]), ("invalidate", ["f2"])]
    [(_, request)] = llm.calls
    assert [item.index for item in request.items] == [1] and usage.llm_calls == 1


def test_prompts_carry_the_declarations_and_instructions_only_when_given():
    turns = [Message(role="user", name="Ana", content="I opened ticket 12 about the Pro plan.")]
    plain = ExtractionInput(messages=turns)
    given = ExtractionInput(messages=turns, ontology=SUPPORT)
    for build in (entity_prompt, graph_prompt):
        assert "Customer (a kind of Person): Buys from us." in build(given).system
        assert "Tickets are named by their number." in build(given).system
        assert "nothing else" in build(given).system
        assert "Customer" not in build(plain).system and "e.g. Person, City" in build(plain).system
    relations = relation_prompt(given, [Entity(name="Ana", type="Customer")]).system
    assert "- opened (Customer -> Ticket; the other way round: opened_by)" in relations
    assert (
        "- works_for (Person -> Company; one value at a time: a new one replaces the old; the other way round: employs)"
        in relations
    )
    assert "knows (Person -> Person; symmetric)" in relations
    assert "opened" not in relation_prompt(plain, []).system


def test_strict_mode_limits_the_answer_schema_to_the_declared_names():
    schema = constrain_schema(strict_schema(RelationExtraction.model_json_schema()), SUPPORT)
    triplet = schema["$defs"]["Triplet"]["properties"]
    assert triplet["relation"]["enum"] == ["opened", "works_for", "owns", "knows", "opened_by", "employs"]
    assert triplet["source_type"]["enum"] == ["Person", "Customer", "Ticket", "Product", "Company"]
    entities = constrain_schema(strict_schema(EntityExtraction.model_json_schema()), SUPPORT)
    assert entities["$defs"]["Entity"]["properties"]["type"]["enum"][0] == "Person"
    open_ = SUPPORT.model_copy(update={"mode": "open"})
    assert "enum" not in json.dumps(constrain_schema(strict_schema(RelationExtraction.model_json_schema()), open_))


def test_cli_check_and_show():
    runner = CliRunner()
    ok = runner.invoke(app, ["ontology", "check", str(EXAMPLES / "customer_support.yaml")])
    assert ok.exit_code == 0 and "ontology 'customer-support', strict, 6 entity types, 6 relations" in ok.output
    shown = runner.invoke(app, ["ontology", "show", "personal", "--json"])
    assert shown.exit_code == 0 and json.loads(shown.output)["name"] == "personal"


def test_cli_check_fails_with_the_config_exit_code(tmp_path: Path):
    bad = tmp_path / "bad.toml"
    bad.write_text(BAD_TOML)
    result = CliRunner().invoke(app, ["ontology", "check", str(bad)])
    assert result.exit_code == 4 and "declared twice" in result.output


def test_init_warns_only_when_the_recorded_ontology_changed():
    support = (SUPPORT.name, SUPPORT.fingerprint)
    assert change_warning(None, SUPPORT) is None  # never recorded: nothing to compare
    assert change_warning(support, SUPPORT) is None
    assert change_warning((None, None), None) is None
    changed = change_warning(support, load_ontology("personal"))
    assert changed is not None and "written under ontology 'support'" in changed and "'personal'" in changed
    edited = SUPPORT.model_copy(update={"mode": "open"})
    assert edited.fingerprint != SUPPORT.fingerprint and change_warning(support, edited) is not None
    dropped = change_warning(support, None)
    assert dropped is not None and "now under no ontology" in dropped


CRM = Ontology.model_validate(
    {
        "name": "crm",
        "mode": "strict",
        "entity_types": [
            {"name": "Person", "attributes": {"email": {"description": "Work email."}}},
            {
                "name": "Customer",
                "parent": "Person",
                "attributes": {
                    "seats": {"type": "integer"},
                    "renewal": {"type": "date"},
                    "churn_risk": {"type": "boolean"},
                },
            },
            {"name": "Company"},
        ],
        "relations": [{"name": "works_for", "source": ["Person"], "target": ["Company"]}],
    }
)


def test_declared_attributes_are_typed_and_the_rest_rejected_with_a_reason():
    ana = Entity.model_validate(
        {
            "name": "Ana",
            "type": "Customer",
            "attributes": [
                {"name": "seats", "value": "1,200"},
                {"name": "Renewal", "value": "2026-03-01"},
                {"name": "churn risk", "value": "yes"},
                {"name": "email", "value": "ana@acme.test"},  # inherited from Person
                {"name": "favourite_colour", "value": "red"},
                {"name": "seats", "value": "many"},
            ],
        }
    )
    out = conform(CRM, [ana], [t("Ana", "works_for", "Acme", "Customer", "Company")])
    assert out.properties == {
        "ana": {"seats": 1200, "renewal": date(2026, 3, 1), "churn_risk": True, "email": "ana@acme.test"}
    }
    assert [(r.entity, r.attribute, r.reason) for r in out.rejected] == [
        (
            "Ana",
            "favourite_colour",
            "attribute 'favourite_colour' is not declared for type Customer (declared: email, seats, renewal, churn_risk)",
        ),
        ("Ana", "seats", "attribute 'seats' of type Customer is an integer; got 'many'"),
    ]


def test_attributes_reach_the_prompt_and_schema_only_when_declared():
    given = ExtractionInput(messages=[Message(content="x")], ontology=CRM)
    system = entity_prompt(given).system
    assert "attribute seats (integer)" in system and "`attributes`:" in system
    assert (
        "`attributes`" not in entity_prompt(ExtractionInput(messages=[Message(content="x")], ontology=SUPPORT)).system
    )
    schema = constrain_schema(strict_schema(EntityExtraction.model_json_schema()), CRM)
    assert schema["$defs"]["AttributeValue"]["properties"]["name"]["enum"] == [
        "churn_risk",
        "email",
        "renewal",
        "seats",
    ]
    assert "attributes" in schema["$defs"]["Entity"]["required"]
    plain = constrain_schema(strict_schema(EntityExtraction.model_json_schema()), None)
    assert "AttributeValue" not in plain["$defs"] and "attributes" not in plain["$defs"]["Entity"]["properties"]
    # an entity without attributes is dumped as before (token estimates and caches unchanged)
    assert Entity(name="Ana").model_dump_json() == '{"name":"Ana","type":"Entity"}'


def test_the_browser_style_captions_every_declared_type():
    style = browser_style(SUPPORT, "node.Entity {\n  caption: '{name}';\n}\n")
    assert style.startswith("node.Entity {")
    for t in SUPPORT.entity_types:
        block = style.split(f"node.{t.name} {{", 1)[1].split("\n}", 1)[0]
        assert "caption: '{name}';" in block, t.name
    colour = {t.name: style.split(f"node.{t.name} {{\n  color: ", 1)[1][:7] for t in SUPPORT.entity_types}
    assert colour["Customer"] == colour["Person"] != colour["Ticket"]  # a subtype wears its root's colour
    result = CliRunner().invoke(app, ["ontology", "grass", str(EXAMPLES / "customer_support.yaml")])
    assert result.exit_code == 0 and "node.SupportAgent {" in result.output and "node.Message {" in result.output


def test_agents_read_what_the_ontology_refused():
    from graphmem._models import AddResult
    from graphmem.serve.wire import add_text

    result = AddResult(
        rejected=[Rejection(triplet=t("Ana", "likes", "tea"), reason="relation 'likes' is not declared")]
    )
    assert "! not stored (the ontology): relation 'likes' is not declared" in add_text(result)
