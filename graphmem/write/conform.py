"""The ontology at the boundary: extracted (or given) triplets made to fit it, or rejected.

Between extraction and matching. A triplet is mapped when the ontology makes the mapping
unambiguous: an inverse relation name is read back into its declared relation (ends swapped),
a generic or parent type is narrowed to the one type the relation allows. What still breaks a
rule is rejected with a reason, never dropped silently. Pure: unit-tested without Neo4j.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .._models import Entity, Rejection, Triplet, normalize_name, normalize_relation
from ..ontology.model import Attribute, Ontology, RelationType

GENERIC_TYPE = "Entity"


@dataclass
class Conformed:
    entities: list[Entity] = field(default_factory=list)
    triplets: list[Triplet] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    #: the typed attribute values of each entity (by normalised name), stored as node properties
    properties: dict[str, dict[str, Any]] = field(default_factory=dict)


def conform(ontology: Ontology, entities: list[Entity], triplets: list[Triplet]) -> Conformed:
    """The triplets that fit `ontology` (some mapped), the entities at their ends (typed as
    the triplets type them), and a rejection per triplet that cannot fit."""
    out = Conformed()
    first = [fit(ontology, t) for t in triplets]
    # an untyped end another triplet of the add has typed takes that type ("Acme employs Maya"
    # makes Maya a Customer, so "Maya owns Pro plan" needs no guess)
    known = {
        normalize_name(name): kind
        for t in first
        if isinstance(t, Triplet)
        for name, kind in ((t.source, t.source_type), (t.target, t.target_type))
        if kind in ontology.types
    }
    for triplet, fitted in zip(triplets, first):
        if isinstance(fitted, Rejection):
            fitted = fit(ontology, _typed_ends(triplet, known))
        if isinstance(fitted, Rejection):
            out.rejected.append(fitted)
        else:
            out.triplets.append(fitted)
    given = {normalize_name(e.name): e for e in entities}
    typed: dict[str, Entity] = {}
    for t in out.triplets:
        for name, kind in ((t.source, t.source_type), (t.target, t.target_type)):
            key = normalize_name(name)
            # the most specific type an add gives it (Customer over Person)
            if key not in typed or typed[key].type in ontology.ancestors(kind)[1:] + [GENERIC_TYPE]:
                typed[key] = (given.get(key) or Entity(name=name)).model_copy(update={"type": kind})
    out.entities = list(typed.values())
    for entity in out.entities:
        values = typed_attributes(ontology, entity, out.rejected)
        if values:
            out.properties[normalize_name(entity.name)] = values
    return out


def typed_attributes(ontology: Ontology, entity: Entity, rejected: list[Rejection]) -> dict[str, Any]:
    """The entity's attribute values its type (or a parent) declares, each as its declared
    type; the others go to `rejected` with a reason."""
    declared: dict[str, Attribute] = {}
    for kind in reversed(ontology.ancestors(entity.type)):
        if kind in ontology.types:
            declared.update(ontology.types[kind].attributes)
    values: dict[str, Any] = {}
    for given in entity.attributes:
        name = normalize_relation(given.name)
        spec = declared.get(name)
        if spec is None:
            known = ", ".join(declared) or "none"
            reason = f"attribute {given.name!r} is not declared for type {entity.type} (declared: {known})"
        else:
            try:
                values[name] = _typed(given.value, spec.type)
                continue
            except ValueError:
                article = "an" if spec.type[0] in "aeiou" else "a"
                reason = f"attribute {name!r} of type {entity.type} is {article} {spec.type}; got {given.value!r:.80}"
        rejected.append(Rejection(entity=entity.name, attribute=given.name, reason=reason))
    return values


_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}


def _typed(text: str, kind: str) -> Any:
    value = text.strip()
    if kind == "integer":
        return int(value.replace(",", "").replace("_", ""))
    if kind == "number":
        return float(value.replace(",", ""))
    if kind == "boolean":
        folded = value.casefold()
        if folded in _TRUE | _FALSE:
            return folded in _TRUE
        raise ValueError(value)
    if kind == "date":
        return date.fromisoformat(value)
    if not value:
        raise ValueError(value)
    return value


def _typed_ends(triplet: Triplet, known: dict[str, str]) -> Triplet:
    update = {
        field: known[normalize_name(name)]
        for field, name, kind in (
            ("source_type", triplet.source, triplet.source_type),
            ("target_type", triplet.target, triplet.target_type),
        )
        if kind == GENERIC_TYPE and normalize_name(name) in known
    }
    return triplet.model_copy(update=update) if update else triplet


def fit(ontology: Ontology, triplet: Triplet) -> Triplet | Rejection:
    relation = ontology.relation_types.get(triplet.relation)
    if relation is None and (declared := ontology.inverses.get(triplet.relation)) is not None:
        relation = declared
        triplet = triplet.model_copy(
            update={
                "source": triplet.target,
                "source_type": triplet.target_type,
                "relation": declared.name,
                "target": triplet.source,
                "target_type": triplet.source_type,
            }
        )
    if relation is None:
        if ontology.mode == "strict":
            return Rejection(
                triplet=triplet,
                reason=f"relation {triplet.relation!r} is not declared in ontology {ontology.name!r} "
                f"(declared: {', '.join(ontology.relation_types) or 'none'})",
            )
        return triplet  # open: kept as extracted, as without an ontology
    try:
        source = _end_type(ontology, relation, "source", triplet.source, triplet.source_type)
        target = _end_type(ontology, relation, "target", triplet.target, triplet.target_type)
    except _Misfit as misfit:
        return Rejection(triplet=triplet, reason=str(misfit))
    return triplet.model_copy(update={"source_type": source, "target_type": target})


class _Misfit(Exception):
    """An end whose type the relation does not allow (the message says why)."""


def _end_type(ontology: Ontology, relation: RelationType, end: str, name: str, type_name: str) -> str:
    """The end's type as stored; raises _Misfit when it cannot fit."""
    allowed: list[str] = getattr(relation, end)
    declared = type_name in ontology.types
    if declared and ontology.accepts(allowed, type_name):
        return type_name
    if not declared and allowed == [] and ontology.mode == "open":
        return type_name
    narrowed = _narrow(ontology, allowed, type_name if declared else None)
    if narrowed is not None:
        return narrowed
    if not declared and ontology.mode == "open" and type_name != GENERIC_TYPE:
        return type_name  # open: a type the ontology does not know is kept as extracted
    wants = " or ".join(allowed) if allowed else "a declared type"
    got = f"type {type_name}" if declared or type_name == GENERIC_TYPE else f"undeclared type {type_name}"
    raise _Misfit(f"{relation.name} wants a {end} of {wants}; {name!r} has {got}")


def _narrow(ontology: Ontology, allowed: list[str], declared: str | None) -> str | None:
    """The one type the end can be: the relation allows a single type (and the extracted
    type, if declared, is its parent), or the declared type is the parent of exactly one
    allowed type."""
    if not allowed:
        return None
    if declared is None:
        return allowed[0] if len(allowed) == 1 else None
    below = [a for a in allowed if declared in ontology.ancestors(a)]
    return below[0] if len(below) == 1 else None
