"""Cypher writer: turns the decisions of one add into the parameters of cypher/write_add.cypher
(`plan_write`, pure: unit-tested without Neo4j) and applies them in one transaction, one round
trip (`apply_plan`). Returns the facts as written, and the parameters with the scope clock the
write left (`Written`: the search cache folds them in)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from .._models import (
    LABEL_PATTERN,
    RELATION_PATTERN,
    AddResult,
    ConflictSet,
    Fact,
    Message,
    NodeMatch,
    ResolutionDecision,
    Scope,
    Usage,
    normalize_name,
)
from .._terms import STEMMER, stem_text
from ..cache.writes import Written
from ..ontology.model import ATTRIBUTE_PATTERN, RESERVED_ATTRIBUTES
from ..store.ids import fact_id, scope_clock_id
from ..store.queries import Queries


class StoredMessage(BaseModel):
    """A message as written: `id` is unique per scope, `external_id` is the caller's id if any."""

    id: str
    external_id: str | None
    message: Message


class AddPlan(BaseModel):
    scope: Scope
    now: datetime
    valid_from: datetime
    messages: list[StoredMessage]
    matches: dict[str, NodeMatch]
    entity_embeddings: dict[str, list[float]]
    conflicts: list[ConflictSet]
    fact_embeddings: list[list[float]]
    decisions: list[ResolutionDecision]
    metadata: dict[Any, Any] | None = None
    message_embeddings: list[list[float]]  # one per message, in order
    #: typed attribute values per entity (normalised name), from the ontology; set on the node
    entity_properties: dict[str, dict[str, Any]] = Field(default_factory=dict)
    #: the scope's write clock as the add's reads saw it; None: the add read nothing (turns only)
    scope_version: int | None = None


def _checked_properties(properties: dict[str, Any]) -> dict[str, Any]:
    # Defence in depth: the ontology refuses other names; a key here becomes a node property.
    for key in properties:
        if not ATTRIBUTE_PATTERN.match(key) or key in RESERVED_ATTRIBUTES:
            raise ValueError(f"refusing to write entity attribute {key!r}: not a declared attribute name")
    return properties


def _checked_label(label: str) -> str:
    # Defence in depth: models already normalise labels; nothing else may reach `SET n:$(...)`.
    if not LABEL_PATTERN.match(label):
        raise ValueError(f"refusing entity type label {label!r}: it does not match {LABEL_PATTERN.pattern}")
    return label


def apply_plan(
    queries: Queries, plan: AddPlan, usage: Usage, *, before_commit: Callable[[], None] | None = None
) -> tuple[AddResult, Written]:
    """The write, and what it wrote (for the search cache, once it has committed)."""
    params, result = plan_write(plan)
    clock = queries.write_add(params, usage=usage, before_commit=before_commit)
    return result, Written(plan.scope, params, clock)


def plan_write(plan: AddPlan) -> tuple[dict[str, Any], AddResult]:
    """The parameters of cypher/write_add.cypher for one add's decisions, and the AddResult the
    write will have made (facts added, invalidated, updated, restated)."""
    result = AddResult()
    message_ids = [m.id for m in plan.messages]
    new_facts: list[dict[str, Any]] = []
    invalidations: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    restated: list[dict[str, Any]] = []
    used_nodes: dict[str, NodeMatch] = {}
    candidates = {c.fact.id: c.fact for cs in plan.conflicts for c in cs.candidates}
    candidates.update({cs.restated.id: cs.restated for cs in plan.conflicts if cs.restated})

    def node_name(match: NodeMatch) -> str:
        return match.matched_name or match.name

    def add_fact(cs: ConflictSet, embedding: list[float], closes: list[str]) -> Fact:
        t = cs.triplet
        if not RELATION_PATTERN.match(t.relation):
            raise ValueError(f"refusing relation {t.relation!r}: it does not match {RELATION_PATTERN.pattern}")
        source, target = plan.matches[normalize_name(t.source)], plan.matches[normalize_name(t.target)]
        used_nodes[source.node_id], used_nodes[target.node_id] = source, target
        fact = Fact(
            id=fact_id(plan.scope, source.node_id, t.relation, target.node_id, plan.valid_from),
            source=node_name(source),
            source_type=source.type,
            relation=t.relation,
            target=node_name(target),
            target_type=target.type,
            fact=t.sentence,
            valid_from=plan.valid_from,
            created_at=plan.now,
            updated_at=plan.now,
            confidence=t.confidence,
            source_id=source.node_id,
            target_id=target.node_id,
            message_ids=message_ids,
            user_id=plan.scope.user_id,
            agent_id=plan.scope.agent_id,
            run_id=plan.scope.run_id,
        )
        new_facts.append(
            {
                "id": fact.id,
                "source_id": fact.source_id,
                "target_id": fact.target_id,
                "relation": fact.relation,
                "fact": fact.fact,
                "embedding": embedding,
                "valid_from": fact.valid_from,
                "confidence": fact.confidence,
                "message_ids": message_ids,
            }
        )
        for old_id in closes:
            old = candidates[old_id]
            if old.valid_to is None:
                invalidations.append({"id": old_id, "valid_to": plan.valid_from, "invalidated_by": fact.id})
                result.invalidated.append(
                    old.model_copy(update={"valid_to": plan.valid_from, "invalidated_by": fact.id})
                )
        result.added.append(fact)
        return fact

    for decision, cs, embedding in zip(plan.decisions, plan.conflicts, plan.fact_embeddings, strict=True):
        if decision.action == "add":
            add_fact(cs, embedding, [])
        elif decision.action == "invalidate":
            add_fact(cs, embedding, decision.existing_ids)
        elif decision.action == "noop":
            for old_id in decision.existing_ids:
                old = candidates[old_id]
                restated.append({"id": old_id, "message_ids": message_ids})
                merged = old.message_ids + [m for m in message_ids if m not in old.message_ids]
                result.noop.append(old.model_copy(update={"mentions": old.mentions + 1, "message_ids": merged}))
        else:  # update
            old = candidates[decision.existing_ids[0]]
            if (old.source_id, old.target_id) == (cs.source_id, cs.target_id):
                t = cs.triplet
                updates.append(
                    {
                        "id": old.id,
                        "relation": t.relation,
                        "fact": t.sentence,
                        "embedding": embedding,
                        "confidence": t.confidence,
                        "message_ids": message_ids,
                    }
                )
                merged = old.message_ids + [m for m in message_ids if m not in old.message_ids]
                result.updated.append(
                    old.model_copy(
                        update={
                            "relation": t.relation,
                            "fact": t.sentence,
                            "confidence": t.confidence,
                            "updated_at": plan.now,
                            "mentions": old.mentions + 1,
                            "message_ids": merged,
                        }
                    )
                )
            else:
                # an update that moves the fact to another node keeps the old one as history
                add_fact(cs, embedding, decision.existing_ids[:1])

    # a stored node whose attributes the add states gets them even when its facts were restated
    for normalized in plan.entity_properties:
        match = plan.matches.get(normalized)
        if match is not None and match.matched:
            used_nodes.setdefault(match.node_id, match)
    entities = [
        {
            "id": m.node_id,
            "name": m.name,
            "normalized": m.normalized,
            "type": _checked_label(m.type),
            "embedding": plan.entity_embeddings[m.normalized],
            "properties": _checked_properties(plan.entity_properties.get(m.normalized, {})),
            "message_ids": message_ids,
        }
        for m in used_nodes.values()
    ]
    messages = [
        {
            "id": m.id,
            "external_id": m.external_id,
            "role": m.message.role,
            "speaker": m.message.speaker,
            "content": m.message.content,
            "timestamp": m.message.timestamp or plan.valid_from,
            "metadata": json.dumps(plan.metadata) if plan.metadata else None,
            "embedding": vector,
            "stems": stem_text(m.message.content),
        }
        for m, vector in zip(plan.messages, plan.message_embeddings, strict=True)
    ]
    params = {
        **plan.scope.params(),
        "scope_key": plan.scope.key,
        "scope_clock": scope_clock_id(plan.scope),
        "expected_version": plan.scope_version,
        "now": plan.now,
        "stemmer": STEMMER,
        "messages": messages,
        "entities": entities,
        "invalidations": invalidations,
        "new_facts": new_facts,
        "updates": updates,
        "restated": restated,
    }
    return params, result
