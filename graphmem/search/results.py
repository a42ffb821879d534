"""What a search returns: fact hits with the signals that found them, the turns found beside
them, and their rendering for a prompt; and the reading of the statements' fact and turn
projections into them."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import UTC
from typing import Any

from pydantic import BaseModel, Field

from .._models import Episode, Fact
from ..store.transport import fact_from_record

__all__ = [
    "EpisodeHit",
    "Ranked",
    "SearchHit",
    "SearchResults",
    "Signal",
    "episode_from_record",
    "fact_parser",
    "parse_fact",
]

TURNS_TITLE = "Relevant conversation turns:"  # to_context: the turns' heading, after the facts
Ranked = list[tuple[Fact, float, int | None]]  # (fact, score, hops) best first


class Signal(BaseModel):
    rank: int
    score: float


class SearchHit(BaseModel):
    fact: Fact
    score: float
    signals: dict[str, Signal] = Field(default_factory=dict)
    hops: int | None = None
    via: list[str] = Field(default_factory=list)  # associative: ids of the facts chained before it

    def line(self) -> str:
        f = self.fact
        when = f.valid_from.date().isoformat()
        until = f" (until {f.valid_to.date().isoformat()})" if f.valid_to else ""
        return f"[{when}{until}] {f.fact} ({f.triplet()})"


class EpisodeHit(BaseModel):
    """A stored turn found for the query; `signals` holds its vector and keyword ranks."""

    episode: Episode
    score: float
    signals: dict[str, Signal] = Field(default_factory=dict)

    def line(self) -> str:
        e = self.episode
        return f"[{e.timestamp.date().isoformat()}] {e.speaker or e.role}: {e.content}"


class SearchResults(list[SearchHit]):
    """Fact hits, best first, plus `episodes` (the best stored turns), and a renderer for prompts."""

    def __init__(self, hits: Iterable[SearchHit] = (), episodes: Iterable[EpisodeHit] = ()):
        super().__init__(hits)
        self.episodes: list[EpisodeHit] = list(episodes)

    def to_context(self, max_tokens: int = 2000) -> str:
        """Dated facts, most relevant first, then the relevant turns (dated, with speaker), cut
        at about `max_tokens` (4 characters a token) before the first line that does not fit."""
        facts = [["- " + hit.line()] for hit in self]
        turns = [["- " + turn.line()] for turn in self.episodes]
        if turns:
            turns[0].insert(0, TURNS_TITLE)  # the title goes only with a turn under it
        lines: list[str] = []
        used = 0
        for group in facts + turns:
            cost = sum(math.ceil(len(line) / 4) + 1 for line in group)
            if used + cost > max_tokens:
                break
            lines += group
            used += cost
        return "\n".join(lines)


def episode_from_record(data: dict[str, Any]) -> Episode:
    """An Episode from fragments/episode_projection (times as UTC ISO strings)."""
    episode = Episode.model_validate({k: v for k, v in data.items() if v is not None})
    episode.timestamp = episode.timestamp.astimezone(UTC)
    if episode.created_at is not None:
        episode.created_at = episode.created_at.astimezone(UTC)
    return episode


def parse_fact(data: dict[str, Any]) -> Fact:
    """A Fact from fragments/fact_projection, which sends times as UTC ISO strings (fast to
    decode); they are given datetime.timezone.utc, as graphmem's own times have."""
    fact = fact_from_record(data)
    for name in ("valid_from", "valid_to", "created_at", "updated_at"):
        value = getattr(fact, name)
        if value is not None and value.tzinfo is not UTC:
            setattr(fact, name, value.astimezone(UTC))
    return fact


def fact_parser() -> Callable[[dict[str, Any]], Fact]:
    """`parse_fact`, once per fact id."""
    read: dict[str, Fact] = {}

    def parse(data: dict[str, Any]) -> Fact:
        fact = read.get(data["id"])
        if fact is None:
            fact = read[data["id"]] = parse_fact(data)
        return fact

    return parse
