"""What a memory may hold: the entity types and relations a user declares.

An `Ontology` is built in Python or loaded from a TOML or YAML file (`files.load_ontology`). Its
names become node labels and relation names, so each must already be in the shape graphmem
stores (PascalCase types, snake_case relations and attributes); a file that breaks a rule
fails when loaded, naming the file, the line, the type or relation and the fix.

The built-in `personal` ontology holds what the offline extractor knows (people, places,
work, kin; which relations hold one value at a time).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from .._names import LABEL_PATTERN, RELATION_PATTERN, normalize_label, normalize_relation

#: properties graphmem itself keeps on an entity node: an attribute cannot take their names
RESERVED_ATTRIBUTES = frozenset(
    "id name normalized type embedding user_id agent_id run_id scope created_at updated_at revision "
    "mentions message_ids valid_from valid_to".split()
)
ATTRIBUTE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

Cardinality = Literal["one", "many"]


class Attribute(BaseModel):
    """A typed property extracted onto an entity node."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["string", "integer", "number", "boolean", "date"] = "string"
    description: str = ""


class EntityType(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    #: the type this one is a kind of (`City` is a `Place`): a relation that accepts the
    #: parent accepts it, and a search for the parent finds it
    parent: str | None = None
    attributes: dict[str, Attribute] = Field(default_factory=dict)


class RelationType(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    #: allowed source and target types (subtypes included); empty: any type
    source: list[str] = Field(default_factory=list)
    target: list[str] = Field(default_factory=list)
    #: `one`: a source holds one value at a time, so a new value replaces the old one
    cardinality: Cardinality = "many"
    #: the same fact read the other way (`child_of` for `parent_of`): stored as this relation
    inverse: str | None = None
    #: (a, r, b) says (b, r, a) too (`married_to`)
    symmetric: bool = False


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an ontology: where (a path of keys and indexes) and what."""

    location: tuple[str | int, ...]
    message: str


class Ontology(BaseModel):
    """Declared entity types and relations, and how strictly extraction must follow them.

    `strict`: only declared types and relations are kept (the rest is rejected, with a reason);
    `open`: declared ones are preferred, others kept as without an ontology."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    mode: Literal["strict", "open"] = "open"
    custom_instructions: str = ""
    entity_types: list[EntityType] = Field(default_factory=list)
    relations: list[RelationType] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Ontology:
        if info.context and info.context.get("problems_later"):
            return self  # load_ontology reports them with their lines
        problems = list(check(self))
        if problems:
            raise ValueError("; ".join(f"{path(p.location)}: {p.message}" for p in problems))
        return self

    # -- look-ups ------------------------------------------------------------------------
    @cached_property
    def types(self) -> dict[str, EntityType]:
        return {t.name: t for t in self.entity_types}

    @cached_property
    def relation_types(self) -> dict[str, RelationType]:
        return {r.name: r for r in self.relations}

    @cached_property
    def inverses(self) -> dict[str, RelationType]:
        """Inverse name -> the declared relation it is read back into."""
        return {r.inverse: r for r in self.relations if r.inverse and r.inverse not in self.relation_types}

    def ancestors(self, type_name: str) -> list[str]:
        """`type_name` and the types it is a kind of, nearest first."""
        chain: list[str] = []
        current: str | None = type_name
        while current is not None and current not in chain:
            chain.append(current)
            declared = self.types.get(current)
            current = declared.parent if declared else None
        return chain

    def with_subtypes(self, type_names: list[str]) -> list[str]:
        """The given types and every declared type that is a kind of one of them."""
        wanted = set(type_names)
        found = list(dict.fromkeys(type_names))
        found += [t for t in self.types if t not in wanted and wanted & set(self.ancestors(t))]
        return found

    def accepts(self, allowed: list[str], type_name: str) -> bool:
        return not allowed or any(a in allowed for a in self.ancestors(type_name))

    @property
    def fingerprint(self) -> str:
        """A short hash of what the ontology declares (recorded with the data written under it)."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]


def change_warning(before: tuple[str | None, str | None] | None, now: Ontology | None) -> str | None:
    """What `graphmem init` says when the database was recorded under another ontology than the
    one configured now (`before`: the recorded name and fingerprint, None if never recorded)."""
    after = (now.name, now.fingerprint) if now else (None, None)
    if before is None or before == after:
        return None

    def said(name: str | None, fingerprint: str | None) -> str:
        return f"ontology {name!r} ({fingerprint})" if name else "no ontology"

    return (
        f"this database was written under {said(*before)}, and is now under {said(*after)}. "
        "What is stored stays readable as it is (types and relations are kept); new adds follow "
        f"{'the new one' if now else 'no ontology'}."
    )


def path(location: tuple[str | int, ...]) -> str:
    out = ""
    for part in location:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "(top level)"


def check(ontology: Ontology) -> Iterator[Problem]:
    """Every problem of names and references: bad shapes, duplicates, unknown types, a parent
    cycle, an inverse or symmetry that cannot hold."""
    types: dict[str, int] = {}
    yield from _declared([t.name for t in ontology.entity_types], "entity_types", "type", types)
    for i, t in enumerate(ontology.entity_types):
        for attribute in t.attributes:
            where: tuple[str | int, ...] = ("entity_types", i, "attributes", attribute)
            if not ATTRIBUTE_PATTERN.match(attribute):
                yield Problem(
                    where, f"attribute {attribute!r} of type {t.name!r} must be snake_case (letters, digits, _)"
                )
            elif attribute in RESERVED_ATTRIBUTES:
                yield Problem(
                    where, f"attribute {attribute!r} of type {t.name!r} is a property graphmem keeps itself: rename it"
                )
    for i, t in enumerate(ontology.entity_types):
        if t.parent is not None and t.parent not in types:
            yield Problem(
                ("entity_types", i, "parent"), f"type {t.name!r} has unknown parent {t.parent!r}{_known(types)}"
            )
        elif t.parent is not None and t.name in ontology.ancestors(t.parent):
            yield Problem(("entity_types", i, "parent"), f"type {t.name!r} is its own ancestor (a parent cycle)")
    yield from _declared([r.name for r in ontology.relations], "relations", "relation", {})
    for i, r in enumerate(ontology.relations):
        for end in ("source", "target"):
            for j, type_name in enumerate(getattr(r, end)):
                if type_name not in types:
                    yield Problem(
                        ("relations", i, end, j),
                        f"relation {r.name!r} names unknown {end} type {type_name!r}{_known(types)}",
                    )
    by_name = {r.name: r for r in ontology.relations}
    inverse_of: dict[str, str] = {}
    for i, r in enumerate(ontology.relations):
        where = ("relations", i, "inverse")
        if r.inverse is None:
            continue
        if problem := _name_problem(r.inverse, "inverse", RELATION_PATTERN, normalize_relation(r.inverse)):
            yield Problem(where, problem)
        elif r.symmetric:
            yield Problem(where, f"relation {r.name!r} is symmetric, so it is its own inverse: drop `inverse`")
        elif r.inverse == r.name:
            yield Problem(where, f"relation {r.name!r} cannot be its own inverse: declare it symmetric instead")
        elif (other := by_name.get(r.inverse)) is not None and (
            other.inverse != r.name or other.source != r.target or other.target != r.source
        ):
            yield Problem(
                where,
                f"relation {r.name!r} has inverse {r.inverse!r}, which is declared as a relation of its own; "
                f"declare it with inverse = {r.name!r} and the source and target swapped, or drop one",
            )
        elif r.inverse in inverse_of:
            yield Problem(where, f"{r.inverse!r} is already the inverse of {inverse_of[r.inverse]!r}")
        inverse_of.setdefault(r.inverse, r.name)
    for i, r in enumerate(ontology.relations):
        if r.symmetric and set(r.source) != set(r.target):
            yield Problem(
                ("relations", i, "symmetric"),
                f"relation {r.name!r} is symmetric, so its source and target types must be the same "
                f"(source {r.source}, target {r.target})",
            )


def _declared(names: list[str], section: str, kind: str, seen: dict[str, int]) -> Iterator[Problem]:
    """Names that cannot be stored as a `kind` ("type" or "relation"), and names declared twice;
    `seen` gets each name's first position."""
    pattern, normalize = (LABEL_PATTERN, normalize_label) if kind == "type" else (RELATION_PATTERN, normalize_relation)
    for i, name in enumerate(names):
        if problem := _name_problem(name, kind, pattern, normalize(name)):
            yield Problem((section, i, "name"), problem)
        if name in seen:
            yield Problem((section, i, "name"), f"{kind} {name!r} is declared twice (also {section}[{seen[name]}])")
        seen.setdefault(name, i)


def _name_problem(name: str, kind: str, pattern: re.Pattern[str], normalized: str) -> str | None:
    if pattern.match(name):
        return None
    shape = "PascalCase (a letter first, then letters or digits)" if kind == "type" else "snake_case (a-z, 0-9, _)"
    suggestion = f"; for example {normalized!r}" if normalized not in ("Entity", "related_to") else ""
    return f"{kind} name {name!r} cannot be stored as a {kind if kind == 'type' else 'relation'} name: use {shape}, at most 64 characters{suggestion}"


def _known(types: dict[str, int]) -> str:
    return f" (declared types: {', '.join(types)})" if types else " (no entity types are declared)"
