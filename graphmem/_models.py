"""Typed boundaries between the pipeline stages, and the public result types.

The data flows top to bottom: Message -> (Entity, Triplet) -> NodeMatch -> ConflictSet
-> Decision -> Fact. Every stage takes and returns these models, so a stage can be
tested or swapped alone.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypedDict

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ._errors import InputError

# re-exported: the stages and tests name them from here
from ._names import LABEL_PATTERN as LABEL_PATTERN
from ._names import RELATION_PATTERN as RELATION_PATTERN
from ._names import normalize_label as normalize_label
from ._names import normalize_name as normalize_name
from ._names import normalize_relation as normalize_relation
from .ontology.model import Ontology

MAX_NAME_CHARS = 20_000
#: scope ids are kept in range indexes, whose keys hold at most ~8 kB (4 bytes a character)
MAX_ID_CHARS = 1_000
#: one turn; about 50k tokens, more than a model reads in one extraction call (split longer text)
MAX_MESSAGE_CHARS = 200_000


def check_text(value: str, field: str) -> str:
    """`value` unchanged if Neo4j can store it; lone surrogates (half a UTF-16 pair, what a
    wrongly decoded file leaves) are not Unicode text and cannot be sent to the database."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InputError(
            f"{field} holds a lone surrogate (U+{ord(value[exc.start]):04X} at position {exc.start}), which is "
            "not valid Unicode and cannot be stored: fix how the text was decoded"
        ) from None
    return value


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC so stored times always compare."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ScopeIds(TypedDict):
    """A scope as keyword arguments of the API (and parameters of the statements)."""

    user_id: str | None
    agent_id: str | None
    run_id: str | None


class Scope(BaseModel):
    """Who a memory belongs to. Every read and write filters on the ids that are set."""

    model_config = ConfigDict(frozen=True)

    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None

    @field_validator("user_id", "agent_id", "run_id", mode="before")
    @classmethod
    def _id_text(cls, value: object, info: ValidationInfo) -> object:
        if value is None:
            return None
        if not isinstance(value, str):
            raise InputError(f"{info.field_name} must be a string, got {type(value).__name__} {value!r:.50}")
        if len(value) > MAX_ID_CHARS:
            raise InputError(
                f"{info.field_name} is {len(value):,} characters long; at most {MAX_ID_CHARS:,} are allowed"
            )
        assert info.field_name is not None  # always set for a field validator
        return check_text(value, info.field_name)

    @model_validator(mode="after")
    def _at_least_one(self) -> Scope:
        if not any((self.user_id, self.agent_id, self.run_id)):
            raise InputError("a scope needs at least one of user_id, agent_id or run_id (e.g. user_id='alice')")
        return self

    @property
    def key(self) -> str:
        """Canonical identity of the scope; entity ids are derived from it."""
        return json.dumps([self.user_id, self.agent_id, self.run_id])

    def params(self) -> ScopeIds:
        return {"user_id": self.user_id, "agent_id": self.agent_id, "run_id": self.run_id}


class Message(BaseModel):
    """One conversation turn. `id` is optional; give one to make re-ingest idempotent."""

    role: str = "user"
    content: str
    name: str | None = None
    timestamp: datetime | None = None
    id: str | None = None

    @field_validator("role")
    @classmethod
    def _known_role(cls, role: str) -> str:
        if role not in {"user", "assistant", "system", "tool", "developer"}:
            raise InputError(f"unknown message role {role!r}: use one of user, assistant, system, tool, developer")
        return role

    @field_validator("content")
    @classmethod
    def _not_empty(cls, content: str) -> str:
        if not content or not content.strip():
            raise InputError("message content is empty: give the text of the turn")
        if len(content) > MAX_MESSAGE_CHARS:
            raise InputError(
                f"message content is {len(content):,} characters long; at most {MAX_MESSAGE_CHARS:,} are allowed "
                "in one turn: split the text into several messages"
            )
        return check_text(content, "message content")

    @field_validator("name", "id")
    @classmethod
    def _storable(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else check_text(value, f"message {info.field_name}")

    @property
    def speaker(self) -> str:
        return self.name or self.role


def _storable(value: object, info: ValidationInfo) -> object:
    # A ValueError, not an InputError: these models also validate LLM output, where a bad
    # value must be a ValidationError (re-asked, then an LLMError), not the caller's fault.
    # Callers' own triplets get an InputError naming the field from add_triplets.
    if isinstance(value, str):
        try:
            check_text(value, info.field_name or "text")
        except InputError as exc:
            raise ValueError(str(exc)) from None
    return value


def _clean_name(value: str) -> str:
    stripped = value.strip()
    if not stripped:
        raise ValueError("entity names (and triplet sources and targets) must not be blank")
    return stripped


#: an entity name as given, trimmed; never empty
Name = Annotated[
    str, Field(min_length=1, max_length=MAX_NAME_CHARS), BeforeValidator(_storable), AfterValidator(_clean_name)
]
#: an entity type label, normalised to LABEL_PATTERN
Label = Annotated[str, AfterValidator(normalize_label)]


class AttributeValue(BaseModel):
    """An entity attribute as the extractor states it (text); the ontology declares its name
    and the type it is stored as."""

    name: str
    value: str


def _no_attributes(value: list[AttributeValue]) -> bool:
    return not value


class Entity(BaseModel):
    name: Name
    type: Label = "Entity"
    #: values of the attributes its type declares (only with an ontology that declares some)
    attributes: list[AttributeValue] = Field(default_factory=list, exclude_if=_no_attributes)


class Triplet(BaseModel):
    """A labelled edge proposed by extraction or given to add_triplets."""

    source: Name
    source_type: Label = "Entity"
    relation: Annotated[str, AfterValidator(normalize_relation)]
    target: Name
    target_type: Label = "Entity"
    fact: Annotated[str | None, AfterValidator(_storable)] = None
    confidence: float = Field(default=1.0, ge=0.0, le=1.0)

    @property
    def sentence(self) -> str:
        return self.fact or f"{self.source} {self.relation.replace('_', ' ')} {self.target}"


class EntityExtraction(BaseModel):
    entities: list[Entity] = Field(default_factory=list)


class RelationExtraction(BaseModel):
    triplets: list[Triplet] = Field(default_factory=list)


class GraphExtraction(BaseModel):
    """Single-pass output: entities and triplets from one LLM call."""

    entities: list[Entity] = Field(default_factory=list)
    triplets: list[Triplet] = Field(default_factory=list)


class ExtractionInput(BaseModel):
    """What the extractor reads: the new turns, plus earlier turns for reference only."""

    messages: list[Message]
    context: list[Message] = Field(default_factory=list)
    #: what the prompts declare; not part of the turns (left out of dumps)
    ontology: Ontology | None = Field(default=None, exclude=True, repr=False)

    @property
    def speakers(self) -> list[str]:
        return list(dict.fromkeys(m.speaker for m in self.messages))


class NodeMatch(BaseModel):
    """Where an extracted entity lands: an existing node (matched) or a new one."""

    name: str
    type: str
    normalized: str
    node_id: str
    matched: bool
    matched_name: str | None = None
    score: float | None = None


class Fact(BaseModel):
    """A stored relation between two entities, with its validity interval and provenance."""

    id: str
    source: str
    source_type: str
    relation: str
    target: str
    target_type: str
    fact: str
    valid_from: datetime
    valid_to: datetime | None = None
    created_at: datetime
    updated_at: datetime | None = None
    invalidated_by: str | None = None
    mentions: int = 1
    confidence: float = 1.0
    source_id: str | None = None
    target_id: str | None = None
    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None
    message_ids: list[str] = Field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return self.valid_to is None

    def triplet(self) -> str:
        return f"{self.source} -[{self.relation}]-> {self.target}"


class Episode(BaseModel):
    """A stored conversation turn (a :Message node), as episodic memory returns it."""

    id: str
    external_id: str | None = None
    role: str = "user"
    speaker: str | None = None
    content: str
    timestamp: datetime
    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None
    entity_ids: list[str] = Field(default_factory=list)  # the entities the turn mentions
    created_at: datetime | None = None  # when graphmem stored it (`timestamp`: when it was said)
    metadata: dict[str, Any] | None = None  # the metadata of the add that stored the turn

    @field_validator("metadata", mode="before")
    @classmethod
    def _stored_json(cls, value: Any) -> Any:
        """The store keeps metadata as JSON text (a property cannot hold a map)."""
        return json.loads(value) if isinstance(value, str) else value


class ConflictCandidate(BaseModel):
    fact: Fact
    reason: Literal["same_relation", "similar_relation", "same_pair", "similar_fact"]
    similarity: float | None = None


class ConflictSet(BaseModel):
    """For one new triplet (by index): the stored fact it restates (same ends, same relation:
    the resolver's `noop`), if any, and the facts it may contradict."""

    index: int
    triplet: Triplet
    source_id: str
    target_id: str
    restated: Fact | None = None
    candidates: list[ConflictCandidate] = Field(default_factory=list)


Action = Literal["add", "update", "invalidate", "noop"]


class ResolutionItem(BaseModel):
    index: int
    new: Triplet
    candidates: list[Fact]


class ResolutionRequest(BaseModel):
    items: list[ResolutionItem]


class ResolutionDecision(BaseModel):
    """The resolver's verdict for one new triplet.

    add: store it as a new fact. invalidate: store it and close the facts in existing_ids.
    update: rewrite the fact in existing_ids[0] with the new triplet. noop: it adds nothing;
    the facts in existing_ids are mentioned again.
    """

    index: int
    action: Action
    existing_ids: list[str] = Field(default_factory=list)
    reason: str | None = None


class ResolutionResult(BaseModel):
    decisions: list[ResolutionDecision] = Field(default_factory=list)


class LLMCall(BaseModel):
    operation: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    cached: bool = False


class Usage(BaseModel):
    """Cost of one operation: LLM calls and tokens, Neo4j round trips, seconds per stage."""

    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    llm_seconds: float = 0.0
    neo4j_round_trips: int = 0
    #: times an add was matched again because another writer changed its scope first
    rematches: int = 0
    stages: dict[str, float] = Field(default_factory=dict)
    calls: list[LLMCall] = Field(default_factory=list)

    def record(self, call: LLMCall) -> None:
        self.calls.append(call)
        if not call.cached:
            self.llm_calls += 1
            self.prompt_tokens += call.prompt_tokens
            self.completion_tokens += call.completion_tokens
            self.llm_seconds += call.seconds

    def merge(self, other: Usage) -> None:
        for call in other.calls:
            self.record(call)
        self.seconds += other.seconds
        self.neo4j_round_trips += other.neo4j_round_trips
        self.rematches += other.rematches
        for stage, seconds in other.stages.items():
            self.stages[stage] = self.stages.get(stage, 0.0) + seconds


class MemoryStats(BaseModel):
    """What a scope (or the whole database) holds."""

    entities: int
    valid_facts: int
    invalidated_facts: int
    messages: int


class MemoryInfo(BaseModel):
    """What a memory runs on: graphmem, the Neo4j it reached, its extractor and embedder."""

    graphmem_version: str
    neo4j: dict[str, Any] = Field(description="address, version and edition of the Neo4j server")
    extractor: str = Field(description="the LLM backend that extracts facts (offline: a rule-based fallback)")
    extractor_is_fallback: bool
    embedder: str
    embedding_dim: int


class Rejection(BaseModel):
    """What the ontology could not fit, and why (it was not stored): a triplet, or an
    attribute of the entity named."""

    triplet: Triplet | None = None
    entity: str | None = None
    attribute: str | None = None
    reason: str


class AddResult(BaseModel):
    added: list[Fact] = Field(default_factory=list)
    updated: list[Fact] = Field(default_factory=list)
    invalidated: list[Fact] = Field(default_factory=list)
    noop: list[Fact] = Field(default_factory=list)
    #: triplets the ontology rejected (strict mode, or types a declared relation does not allow)
    rejected: list[Rejection] = Field(default_factory=list)
    skipped_messages: int = 0
    usage: Usage = Field(default_factory=Usage)
