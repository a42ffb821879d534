"""Update resolver: add / update / invalidate / noop for every new triplet of an add.

Restatements are noop and triplets without candidates are add, both without an LLM
call. With an ontology, a declared relation is decided by its declaration: a new value of
a `one` relation invalidates the source's current one, a symmetric fact stored the other
way is a restatement, and facts of declared relations are no conflict for each other;
only undeclared relations and similar fact sentences are left to the LLM.

Only triplets with conflict candidates go to the LLM, all in one batched call, each
with its most telling candidates (at most MAX_CANDIDATES); an add
matched again (another writer changed its scope) reuses the answers whose candidates did
not change.
The LLM's answer is checked: ids it names must be candidates of that triplet.
"""

from __future__ import annotations

from typing import Protocol

from .._models import (
    ConflictCandidate,
    ConflictSet,
    Fact,
    ResolutionDecision,
    ResolutionItem,
    ResolutionRequest,
    ResolutionResult,
    Triplet,
    Usage,
)
from ..ontology.model import Ontology

#: stored facts shown to the LLM per new triplet: the most telling ones. A speaker's node can
#: hold hundreds of facts of one many-valued relation ("knows"); the answer rarely turns on
#: the old ones, and each costs ~30 prompt tokens.
MAX_CANDIDATES = 8
_REASON_RANK = {"same_pair": 0, "same_relation": 1, "similar_relation": 2, "similar_fact": 3}


def telling(candidates: list[ConflictCandidate], limit: int = MAX_CANDIDATES) -> list[Fact]:
    """The candidates worth asking about, best first: the facts between the same two nodes,
    then those of the same relation (the latest first: the current value of a one-valued
    relation), then by similarity of relation or sentence. Pure."""
    ranked = sorted(
        candidates,
        key=lambda c: (
            _REASON_RANK[c.reason],
            -(c.similarity or 0.0),
            -(c.fact.updated_at or c.fact.valid_from).timestamp(),
        ),
    )
    return [c.fact for c in ranked[:limit]]


def as_stored(conflict: ConflictSet) -> Triplet:
    """The new triplet with its ends named as the stored nodes they matched, where a candidate
    names them: "Alice" said in a scope holding "Alice Smith" is stored on that node, so the
    resolver compares "Alice Smith lives_in Berlin" with "Alice Smith lives_in Paris" (its
    sentence stays as said). Pure."""
    names: dict[str | None, str] = {}
    for candidate in conflict.candidates:
        names[candidate.fact.source_id] = candidate.fact.source
        names[candidate.fact.target_id] = candidate.fact.target
    names.pop(None, None)  # a fact read without its ends' ids names no node
    triplet = conflict.triplet
    return triplet.model_copy(
        update={
            "source": names.get(conflict.source_id, triplet.source),
            "target": names.get(conflict.target_id, triplet.target),
            "fact": triplet.sentence,
        }
    )


#: what an LLM answer was about: the triplet's index and its candidates as they were read
DecisionKey = tuple[int, tuple[tuple[str, str, str, bool], ...]]


def decision_key(item: ResolutionItem) -> DecisionKey:
    return item.index, tuple((f.id, f.relation, f.fact, f.valid_to is None) for f in item.candidates)


def by_ontology(
    conflict: ConflictSet, ontology: Ontology | None
) -> tuple[ResolutionDecision | None, list[ConflictCandidate]]:
    """The decision the ontology makes alone for a triplet with candidates, or (None, the
    candidates it leaves to the LLM). Pure."""
    relation = ontology.relation_types.get(conflict.triplet.relation) if ontology else None
    if ontology is None or relation is None:
        return None, conflict.candidates
    index, name = conflict.index, relation.name
    if relation.symmetric:
        mirrored = [
            c.fact.id
            for c in conflict.candidates
            if c.reason == "same_pair" and c.fact.relation == name and c.fact.source_id == conflict.target_id
        ]
        if mirrored:
            reason = f"{name} is symmetric (ontology {ontology.name}): stored the other way"
            return ResolutionDecision(index=index, action="noop", existing_ids=mirrored[:1], reason=reason), []
    if relation.cardinality == "one":
        rivals = [c.fact.id for c in conflict.candidates if c.reason == "same_relation" and c.fact.is_valid]
        if rivals:
            reason = f"{name} holds one value per source (ontology {ontology.name})"
            return ResolutionDecision(index=index, action="invalidate", existing_ids=rivals, reason=reason), []
    left = [
        c for c in conflict.candidates if c.reason == "similar_fact" or c.fact.relation not in ontology.relation_types
    ]
    if not left:
        reason = f"no conflict with the declared relations (ontology {ontology.name})"
        return ResolutionDecision(index=index, action="add", reason=reason), []
    return None, left


class Resolves(Protocol):
    """What the resolver asks: one batched decision call (every LLM backend has it)."""

    def resolve(self, request: ResolutionRequest, usage: Usage) -> ResolutionResult: ...


class UpdateResolver:
    def __init__(self, llm: Resolves, ontology: Ontology | None = None):
        self.llm = llm
        self.ontology = ontology

    def resolve(
        self,
        conflicts: list[ConflictSet],
        usage: Usage,
        known: dict[DecisionKey, ResolutionDecision] | None = None,
    ) -> list[ResolutionDecision]:
        """A decision per conflict set. `known` holds the LLM's earlier answers for this add (an
        add matched again asks only about candidates that changed) and gains the new ones."""
        known = {} if known is None else known
        decided, ask = self.decide(conflicts, known)
        if ask:
            request = ResolutionRequest(items=ask)
            answers = clean_decisions(request, self.llm.resolve(request, usage)).decisions
            for item, decision in zip(ask, answers, strict=True):
                known[decision_key(item)] = decided[decision.index] = decision
        return [decided[c.index] for c in conflicts]

    def decide(
        self, conflicts: list[ConflictSet], known: dict[DecisionKey, ResolutionDecision]
    ) -> tuple[dict[int, ResolutionDecision], list[ResolutionItem]]:
        """The decisions that need no LLM call (restated, no candidates, decided by the
        ontology, answered before), and the items left to ask about. Pure."""
        decisions: dict[int, ResolutionDecision] = {}
        ask: list[ResolutionItem] = []
        for c in conflicts:
            if c.restated is not None:
                decisions[c.index] = ResolutionDecision(
                    index=c.index, action="noop", existing_ids=[c.restated.id], reason="restated"
                )
            elif not c.candidates:
                decisions[c.index] = ResolutionDecision(index=c.index, action="add", reason="no candidates")
            else:
                ruled, left = by_ontology(c, self.ontology)
                if ruled is not None:
                    decisions[c.index] = ruled
                    continue
                item = ResolutionItem(index=c.index, new=as_stored(c), candidates=telling(left))
                if (answer := known.get(decision_key(item))) is not None:
                    decisions[c.index] = answer
                else:
                    ask.append(item)
        return decisions, ask


def clean_decisions(request: ResolutionRequest, result: ResolutionResult) -> ResolutionResult:
    """Exactly one applicable decision per request item, in request order.

    Models sometimes skip an index, repeat one, or cite ids that belong to another item.
    Ids not among the item's candidates are dropped; a non-add decision left without ids
    cannot be applied and becomes add; a missing decision becomes add.
    """
    allowed = {item.index: [f.id for f in item.candidates] for item in request.items}
    chosen: dict[int, ResolutionDecision] = {}
    for decision in result.decisions:
        if decision.index not in allowed or decision.index in chosen:
            continue
        ids = [i for i in dict.fromkeys(decision.existing_ids) if i in allowed[decision.index]]
        action = decision.action if ids else "add"
        chosen[decision.index] = decision.model_copy(
            update={"action": action, "existing_ids": [] if action == "add" else ids}
        )
    return ResolutionResult(
        decisions=[
            chosen.get(item.index)
            or ResolutionDecision(index=item.index, action="add", reason="the model gave no decision")
            for item in request.items
        ]
    )
