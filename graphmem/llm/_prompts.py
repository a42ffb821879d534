"""Prompt builders for the four model tasks.

Each builder returns a `Prompt` (system + user text). The wording is ours; the task split
follows Mem0g: entities first, then relations over those entities (or both in one pass),
then one batched call that decides how new facts relate to stored ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._models import Entity, ExtractionInput, Message, ResolutionRequest, as_utc
from ..ontology.model import Ontology


@dataclass(frozen=True)
class Prompt:
    system: str
    user: str

    def messages(self) -> list[dict[str, str]]:
        """Chat-completions message list."""
        return [{"role": "system", "content": self.system}, {"role": "user", "content": self.user}]


# The shape of each answer is the JSON schema sent with the request (response_format, or
# spelled out in the system prompt in json_object mode), so the prompts do not repeat it.

# Shared rules. Kept in one place so the two-pass and single-pass prompts cannot drift apart.
_SPEAKER_RULES = """\
Speakers:
- Each turn is shown as `speaker (role): text`. When a speaker says I, me, my, mine or myself,
  write that speaker's exact name as the entity instead of the pronoun.
- Only extract from the turns under NEW TURNS. Turns under CONTEXT are earlier conversation
  given for reference (to resolve "he", "that city", ...); never extract facts stated only there.
- Skip questions, greetings, hypotheticals, plans that did not happen, and the assistant's
  suggestions. Keep facts the speakers state as true."""

_ENTITY_RULES = """\
Entities:
- `name`: the entity as written (proper nouns keep their capitalisation; common nouns such
  as foods or hobbies in lower case, singular or plural as said).
- `type`: one short PascalCase label, e.g. Person, City, Country, Organization, Food,
  Animal, Profession, Skill, Hobby, Event, Product, Date. Use Person for every speaker."""

_RELATION_RULES = """\
Relations:
- `relation`: a short snake_case verb phrase in present tense, e.g. lives_in, works_at,
  sister_of, married_to, allergic_to, likes, dislikes, owns, studies_at, born_in.
  Prefer these common forms over paraphrases so the same fact always gets the same name.
  Direction reads source -> target: (Anna, sister_of, Bob) means Anna is Bob's sister.
- A move is a new lives_in fact ("I moved to Berlin" -> speaker lives_in Berlin); a new job
  is a new works_at fact.
- `fact`: one plain sentence stating the triplet with names, no pronouns,
  e.g. "Alice lives in Paris."
- `source_type` / `target_type`: the entity types as above.
- `confidence`: 0.0-1.0, how clearly the turn states the fact (1.0 when stated outright).
- Only extract relations between two named things; leave out vague or one-off remarks."""


def _strictly(ontology: Ontology, what: str, otherwise: str) -> str:
    if ontology.mode == "strict":
        return f"one of the declared {what} below, nothing else"
    return f"one of the declared {what} below when one fits, else {otherwise}"


def _entity_rules(ontology: Ontology | None) -> str:
    if ontology is None or not ontology.entity_types:
        return _ENTITY_RULES
    only = _strictly(ontology, "types", "one short PascalCase label")
    lines = [
        "Entities:",
        "- `name`: the entity as written (proper nouns keep their capitalisation; common nouns such",
        "  as foods or hobbies in lower case, singular or plural as said).",
        f"- `type`: {only}. The most specific type that fits.",
    ]
    if "Person" in ontology.types:
        lines.append("  Use Person (or a kind of Person) for every speaker.")
    if any(t.attributes for t in ontology.entity_types):
        lines.append(
            "- `attributes`: the declared attributes of its type (and of the types it is a kind of) "
            "that the turns state, as [{name, value}] with the value as written; none otherwise."
        )
    lines.append("Declared types:")
    for t in ontology.entity_types:
        kind = f" (a kind of {t.parent})" if t.parent else ""
        lines.append(f"- {t.name}{kind}: {t.description}".rstrip(": "))
        for name, attribute in t.attributes.items():
            lines.append(f"    attribute {name} ({attribute.type}): {attribute.description}".rstrip(": "))
    return "\n".join(lines)


def _relation_rules(ontology: Ontology | None) -> str:
    if ontology is None or not ontology.relations:
        return _RELATION_RULES
    only = _strictly(ontology, "relations", "a short snake_case verb phrase")
    if ontology.mode == "strict":
        only += "; leave out facts none of them states"
    lines = [
        "Relations:",
        f"- `relation`: {only}. Direction reads source -> target.",
        "- `fact`: one plain sentence stating the triplet with names, no pronouns.",
        "- `source_type` / `target_type`: the entity types as above.",
        "- `confidence`: 0.0-1.0, how clearly the turn states the fact (1.0 when stated outright).",
        "Declared relations:",
    ]
    for r in ontology.relations:
        ends = f"{' or '.join(r.source) or 'any'} -> {' or '.join(r.target) or 'any'}"
        notes = [ends]
        if r.cardinality == "one":
            notes.append("one value at a time: a new one replaces the old")
        if r.symmetric:
            notes.append("symmetric")
        if r.inverse:
            notes.append(f"the other way round: {r.inverse}")
        lines.append(f"- {r.name} ({'; '.join(notes)}): {r.description}".rstrip(": "))
    return "\n".join(lines)


def _instructions(ontology: Ontology | None) -> list[str]:
    if ontology is None or not ontology.custom_instructions.strip():
        return []
    return ["Instructions for this memory:\n" + ontology.custom_instructions.strip()]


def constrain_schema(schema: dict[str, Any], ontology: Ontology | None) -> dict[str, Any]:
    """The extraction answer's JSON schema for this ontology: entity `attributes` only when it
    declares some (a model pays for every field it must fill), and in strict mode type,
    relation and attribute names limited to the declared ones (enums), so a model with
    structured output cannot leave them."""
    attributes = sorted({a for t in (ontology.entity_types if ontology else []) for a in t.attributes})
    enums: dict[str, list[str]] = {}
    if ontology is not None and ontology.mode == "strict":
        types = [t.name for t in ontology.entity_types]
        relations = [r.name for r in ontology.relations] + list(ontology.inverses)
        enums = {"type": types, "source_type": types, "target_type": types, "relation": relations}

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(v) for v in node]
        if not isinstance(node, dict):
            return node
        out = {k: walk(v) for k, v in node.items()}
        properties = out.get("properties", {})
        if "attributes" in properties and not attributes:
            del properties["attributes"]
            out["required"] = [r for r in out.get("required", []) if r != "attributes"]
        for field, values in enums.items():
            spec = properties.get(field)
            if isinstance(spec, dict) and spec.get("type") == "string" and values:
                properties[field] = {**spec, "enum": values}
        return out

    constrained = dict(walk(schema))
    if not attributes:  # the schema is the one sent before ontologies (LLM caches still hit)
        constrained.get("$defs", {}).pop("AttributeValue", None)
    value = constrained.get("$defs", {}).get("AttributeValue")
    if enums and attributes and value is not None:  # an attribute's name is a declared one
        value["properties"]["name"] = {**value["properties"]["name"], "enum": attributes}
    return constrained


def render_turn(message: Message, number: int | None = None) -> str:
    """One turn as `[n] 2024-05-01 10:00 UTC | Alice (user): text`."""
    parts = []
    if number is not None:
        parts.append(f"[{number}]")
    if message.timestamp is not None:
        parts.append(as_utc(message.timestamp).strftime("%Y-%m-%d %H:%M UTC") + " |")
    parts.append(f"{message.speaker} ({message.role}): {message.content.strip()}")
    return " ".join(parts)


def render_conversation(source: ExtractionInput) -> str:
    lines: list[str] = []
    if source.context:
        lines.append("CONTEXT (reference only, do not extract from these):")
        lines.extend(render_turn(m) for m in source.context)
        lines.append("")
    lines.append("NEW TURNS (extract from these):")
    lines.extend(render_turn(m, i) for i, m in enumerate(source.messages, start=1))
    lines.append("")
    lines.append("Speakers of the new turns: " + ", ".join(source.speakers))
    return "\n".join(lines)


def entity_prompt(source: ExtractionInput) -> Prompt:
    system = "\n\n".join(
        [
            "You build a knowledge graph about the people in a conversation. Your task now: list "
            "the entities (people, places, organisations, things) that the new turns state facts about.",
            _SPEAKER_RULES,
            _entity_rules(source.ontology),
            "List each entity once. Include a speaker whenever a turn states something about them.",
            *_instructions(source.ontology),
        ]
    )
    return Prompt(system, render_conversation(source))


def relation_prompt(source: ExtractionInput, entities: list[Entity]) -> Prompt:
    system = "\n\n".join(
        [
            "You build a knowledge graph about the people in a conversation. Your task now: "
            "write the facts the new turns state as (source, relation, target) triplets.",
            _SPEAKER_RULES,
            _relation_rules(source.ontology),
            "Use the names from ENTITIES for source and target when they refer to the same thing; "
            "add a new entity only when a fact needs one that is missing.",
            *_instructions(source.ontology),
        ]
    )
    listed = "\n".join(f"- {e.name} ({e.type})" for e in entities) or "- (none found)"
    return Prompt(system, f"ENTITIES:\n{listed}\n\n{render_conversation(source)}")


def graph_prompt(source: ExtractionInput) -> Prompt:
    system = "\n\n".join(
        [
            "You build a knowledge graph about the people in a conversation. In one answer, list "
            "the entities the new turns talk about and the facts they state as triplets.",
            _SPEAKER_RULES,
            _entity_rules(source.ontology),
            _relation_rules(source.ontology),
            "Every source and target of a triplet must also appear in entities.",
            *_instructions(source.ontology),
        ]
    )
    return Prompt(system, render_conversation(source))


_RESOLUTION_SYSTEM = """\
You maintain a memory of facts as a graph. New facts were just extracted; each comes with
stored facts that may be about the same thing. For every new fact (by its index) choose one
action:

- add: the new fact is new information. Stored facts stay as they are.
- update: the new fact states the same thing as a stored fact, but more precisely or with
  corrected details (e.g. "likes pizza" -> "likes margherita pizza"). Put the id of that
  stored fact first in existing_ids.
- invalidate: the new fact contradicts stored facts and replaces them, because something
  changed or was wrong (e.g. stored "lives_in Paris", new "lives_in Berlin" after a move;
  a new employer; a new marital status). Put the ids of every stored fact it replaces in
  existing_ids. Facts that can be true together are not contradictions: liking two foods,
  having two sisters, visiting a city while living in another.
- noop: the new fact is already stored (same meaning, maybe other words). Put the ids of the
  stored facts that already say it in existing_ids.

Rules: return exactly one decision per new fact index; existing_ids may only contain ids
listed under that index; use an empty list for add. When unsure, prefer add over invalidate:
wrongly closing a true fact loses memory. Give a short reason."""


def resolution_prompt(request: ResolutionRequest) -> Prompt:
    blocks: list[str] = []
    for item in request.items:
        new = item.new
        lines = [f"[{item.index}] NEW: {new.source} -[{new.relation}]-> {new.target} | {new.sentence}"]
        if not item.candidates:
            lines.append("    stored: (none)")
        for fact in item.candidates:
            since = as_utc(fact.valid_from).strftime("%Y-%m-%d")
            lines.append(
                f"    stored id={fact.id}: {fact.source} -[{fact.relation}]-> {fact.target} "
                f"| {fact.fact} | since {since}"
            )
        blocks.append("\n".join(lines))
    return Prompt(_RESOLUTION_SYSTEM, "NEW FACTS WITH STORED CANDIDATES:\n\n" + "\n\n".join(blocks))
