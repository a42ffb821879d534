"""One request model per operation: what an add, a search or a listing asks, scope included.

REST takes them as bodies, MCP's tools and the CLI's commands build them, and each maps onto
the GraphMemory method of its name (`arguments()`), so an option added here reaches every
surface or fails tests/unit/test_surfaces.py. Plain shapes and bounds only: the values are
checked by the memory API, which names the bad field."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, Field, ValidationError, field_validator

from ._errors import input_error
from ._models import Scope
from .search.recipes import DEFAULT_EPISODES, DEFAULT_MODE, MODES, Mode

__all__ = [
    "AddFactsRequest",
    "AddRequest",
    "ChatMessage",
    "FactsRequest",
    "ScopeFields",
    "SearchOptions",
    "SearchRequest",
    "TripletInput",
]

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


class ScopeFields(BaseModel):
    user_id: UserId = None
    agent_id: AgentId = None
    run_id: RunId = None

    @classmethod
    def checked(cls, where: str, /, **values: Any) -> Self:
        """The request, or an InputError naming `where` (the command, the tool) and the field."""
        try:
            return cls(**values)
        except ValidationError as exc:
            raise input_error(exc, where) from None

    def scope(self) -> Scope:
        return Scope(user_id=self.user_id, agent_id=self.agent_id, run_id=self.run_id)


class AddRequest(ScopeFields):
    messages: str | list[ChatMessage] = Field(description="a text, or chat messages")
    timestamp: datetime | None = Field(default=None, description="when it was said (default: now)")
    metadata: dict[str, Any] | None = Field(default=None, description="flat JSON values stored with the facts")

    def arguments(self) -> dict[str, Any]:
        """GraphMemory.add's; unset message fields are left out so its defaults apply."""
        messages: str | list[dict[str, Any]] = (
            self.messages
            if isinstance(self.messages, str)
            else [m.model_dump(exclude_none=True) for m in self.messages]
        )
        return {"messages": messages, **self.scope().params(), "timestamp": self.timestamp, "metadata": self.metadata}


class AddFactsRequest(ScopeFields):
    triplets: list[TripletInput] = Field(min_length=1, description="the facts")
    timestamp: datetime | None = Field(default=None, description="when they became true (default: now)")
    metadata: dict[str, Any] | None = Field(default=None, description="flat JSON values stored with the facts")

    def arguments(self) -> dict[str, Any]:
        """GraphMemory.add_triplets'."""
        triplets = [t.model_dump(exclude_none=True) for t in self.triplets]
        return {"triplets": triplets, **self.scope().params(), "timestamp": self.timestamp, "metadata": self.metadata}


class SearchOptions(BaseModel):
    """What a search is asked besides its query and scope: every surface takes each of these."""

    limit: int = Field(default=10, ge=1, le=100, description="how many facts")
    mode: Mode = Field(default=DEFAULT_MODE, description="associative (default, multi-hop), hybrid, entity, ...")
    episodes: int = Field(default=DEFAULT_EPISODES, ge=0, le=100, description="stored turns to return (0: none)")
    hops: int | None = Field(
        default=None, ge=1, le=3, description="chain length (associative, 3) or expansion depth (entity, 1)"
    )
    as_of: datetime | None = Field(default=None, description="what was true, and said, by this time")
    include_invalidated: bool = Field(default=False, description="also facts no longer true")
    entity_types: list[str] | None = Field(default=None, description="only facts about entities of these types")
    relations: list[str] | None = Field(default=None, description="only facts of these relations")

    @field_validator("mode", mode="before")
    @classmethod
    def _known_mode(cls, mode: Any) -> Any:
        if isinstance(mode, str) and mode not in MODES:
            raise ValueError(f"unknown search mode {mode!r}: use one of {', '.join(MODES)}")
        return mode


class SearchRequest(ScopeFields, SearchOptions):
    query: str = Field(description="the question or topic")
    max_tokens: int = Field(default=2000, ge=50, le=32000, description="budget of the rendered context")

    def arguments(self) -> dict[str, Any]:
        """GraphMemory.search's (max_tokens is the rendering's, not the search's)."""
        options = {name: getattr(self, name) for name in SearchOptions.model_fields}
        return {"query": self.query, **self.scope().params(), **options}


class FactsRequest(ScopeFields):
    include_invalidated: bool = Field(default=False, description="also facts no longer true")
    limit: int = Field(default=1000, ge=1, le=10000, description="at most this many facts")

    def arguments(self) -> dict[str, Any]:
        """GraphMemory.get_all's."""
        return {**self.scope().params(), "include_invalidated": self.include_invalidated, "limit": self.limit}
