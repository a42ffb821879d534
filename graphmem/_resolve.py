"""Update resolver: add / update / invalidate / noop for every new triplet of an add.

Restatements are noop and triplets without candidates are add, both without an LLM
call. Only triplets with conflict candidates go to the LLM, all in one batched call.
The LLM's answer is checked: ids it names must be candidates of that triplet.
"""

from __future__ import annotations

from ._models import ConflictSet, ResolutionDecision, ResolutionItem, ResolutionRequest, ResolutionResult, Usage
from .llm.base import LLM


class UpdateResolver:
    def __init__(self, llm: LLM):
        self.llm = llm

    def resolve(self, conflicts: list[ConflictSet], usage: Usage) -> list[ResolutionDecision]:
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
                ask.append(ResolutionItem(index=c.index, new=c.triplet, candidates=[x.fact for x in c.candidates]))
        if ask:
            request = ResolutionRequest(items=ask)
            for decision in clean_decisions(request, self.llm.resolve(request, usage)).decisions:
                decisions[decision.index] = decision
        return [decisions[c.index] for c in conflicts]


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
