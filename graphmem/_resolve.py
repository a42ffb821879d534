"""Update resolver: add / update / invalidate / noop for every new triplet of an add.

Restatements are noop and triplets without candidates are add, both without an LLM
call. Only triplets with conflict candidates go to the LLM, all in one batched call.
The LLM's answer is checked: ids it names must be candidates of that triplet.
"""

from __future__ import annotations

from ._models import ConflictSet, ResolutionDecision, ResolutionItem, ResolutionRequest, Usage
from .llm.base import LLM


class UpdateResolver:
    def __init__(self, llm: LLM):
        self.llm = llm

    def resolve(self, conflicts: list[ConflictSet], usage: Usage) -> list[ResolutionDecision]:
        decisions: dict[int, ResolutionDecision] = {}
        ask: list[ResolutionItem] = []
        for c in conflicts:
            if c.duplicate is not None:
                decisions[c.index] = ResolutionDecision(
                    index=c.index, action="noop", existing_ids=[c.duplicate.id], reason="restatement"
                )
            elif not c.candidates:
                decisions[c.index] = ResolutionDecision(index=c.index, action="add", reason="no candidates")
            else:
                ask.append(ResolutionItem(index=c.index, new=c.triplet, candidates=[x.fact for x in c.candidates]))
        if ask:
            answer = self.llm.resolve(ResolutionRequest(items=ask), usage)
            allowed = {item.index: {f.id for f in item.candidates} for item in ask}
            for decision in answer.decisions:
                if decision.index in allowed and decision.index not in decisions:
                    decisions[decision.index] = _checked(decision, allowed[decision.index])
            for item in ask:  # the LLM skipped it: keep the new fact, lose nothing
                decisions.setdefault(item.index, ResolutionDecision(index=item.index, action="add", reason="undecided"))
        return [decisions[c.index] for c in conflicts]


def _checked(decision: ResolutionDecision, allowed: set[str]) -> ResolutionDecision:
    ids = [i for i in decision.existing_ids if i in allowed]
    if decision.action in ("update", "noop", "invalidate") and not ids:
        # an update/noop/invalidate of nothing the detector offered: store the new fact instead
        return ResolutionDecision(index=decision.index, action="add", reason="no valid target ids")
    return decision.model_copy(update={"existing_ids": ids})
