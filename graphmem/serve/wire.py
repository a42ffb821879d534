"""The results `graphmem serve` and `graphmem mcp` return: JSON shapes plus a short text
rendering (the requests they take are graphmem/_requests.py's)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from .._models import AddResult, Fact, MemoryStats
from ..search.results import EpisodeHit, SearchHit, SearchResults


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
