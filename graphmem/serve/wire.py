"""The shapes `graphmem serve` and `graphmem mcp` speak: request parts with documented fields,
and results as JSON plus a short text rendering. Plain shapes only: the values are checked by
the memory API they are handed to, which names the bad field."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from .._models import AddResult, Fact, MemoryStats
from ..search.retrieve import EpisodeHit, SearchHit, SearchResults

UserId = Annotated[str | None, Field(description="the user the memory belongs to")]
AgentId = Annotated[str | None, Field(description="the agent the memory belongs to")]
RunId = Annotated[str | None, Field(description="one run or session of the agent")]


class ChatMessage(BaseModel):
    """One conversation turn, OpenAI-style."""

    role: str = Field(default="user", description="user, assistant, system, tool or developer")
    content: str = Field(description="the text of the turn")
    name: str | None = Field(default=None, description="the speaker's name; 'I' and 'my' refer to them")
    timestamp: datetime | None = Field(default=None, description="when the turn was said (ISO 8601)")
    id: str | None = Field(default=None, description="a stable id: the same id is never stored twice")


class TripletInput(BaseModel):
    """A fact given directly: source -[relation]-> target."""

    source: str = Field(description="the entity the fact is about, e.g. 'Alice'")
    source_type: str = Field(default="Entity", description="its type, e.g. Person")
    relation: str = Field(description="snake_case relation name, e.g. lives_in")
    target: str = Field(description="the other entity, e.g. 'Paris'")
    target_type: str = Field(default="Entity", description="its type, e.g. City")
    fact: str | None = Field(default=None, description="the fact as a sentence (made from the triplet if absent)")
    confidence: float = Field(default=1.0, description="0 to 1")


class SearchPayload(BaseModel):
    """Fact hits best first, the best stored turns, and both rendered for a prompt."""

    facts: list[SearchHit]
    episodes: list[EpisodeHit]
    context: str


class FactList(BaseModel):
    facts: list[Fact]


class Deleted(BaseModel):
    deleted: int = Field(description="how many facts (or, for a scope, nodes) were removed")


def search_payload(results: SearchResults, max_tokens: int) -> SearchPayload:
    return SearchPayload(facts=list(results), episodes=results.episodes, context=results.to_context(max_tokens))


def messages_arg(messages: str | list[ChatMessage]) -> str | list[dict[str, Any]]:
    """What GraphMemory.add takes; unset fields are left out so its defaults apply."""
    if isinstance(messages, str):
        return messages
    return [m.model_dump(exclude_none=True) for m in messages]


def triplets_arg(triplets: list[TripletInput]) -> list[dict[str, Any]]:
    return [t.model_dump(exclude_none=True) for t in triplets]


# -- short text renderings (what a model reads beside the structured result) ----------


def add_text(result: AddResult) -> str:
    parts = [
        f"{len(result.added)} added",
        f"{len(result.updated)} updated",
        f"{len(result.invalidated)} invalidated",
        f"{len(result.noop)} already known",
    ]
    lines = ["Stored: " + ", ".join(parts) + "."]
    lines += [f"+ {f.fact} ({f.triplet()}) id={f.id}" for f in result.added + result.updated]
    lines += [f"- no longer true: {f.fact} id={f.id}" for f in result.invalidated]
    lines += [f"! not stored (the ontology): {r.reason}" for r in result.rejected]
    if result.skipped_messages:
        lines.append(f"{result.skipped_messages} message(s) skipped: already stored under the same id.")
    return "\n".join(lines)


def facts_text(facts: list[Fact]) -> str:
    if not facts:
        return "No facts."
    return "\n".join(_fact_line(f) for f in facts)


def _fact_line(fact: Fact) -> str:
    until = f" until {fact.valid_to.date().isoformat()}" if fact.valid_to else ""
    return f"[{fact.valid_from.date().isoformat()}{until}] {fact.fact} ({fact.triplet()}) id={fact.id}"


def search_text(payload: SearchPayload) -> str:
    return payload.context or "Nothing relevant is stored."


def stats_text(stats: MemoryStats) -> str:
    return (
        f"{stats.entities} entities, {stats.valid_facts} valid facts, "
        f"{stats.invalidated_facts} invalidated facts, {stats.messages} stored turns"
    )
