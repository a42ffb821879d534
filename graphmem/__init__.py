"""graphmem: long-term graph memory for AI agents on Neo4j (Mem0g, done right)."""

from ._errors import (
    ConfigError,
    GraphmemError,
    InputError,
    LLMError,
    Neo4jUnavailable,
    SchemaError,
    ServerError,
)
from ._memory import AsyncGraphMemory, GraphMemory
from ._models import AddResult, Entity, Episode, Fact, Message, Scope, Triplet, Usage
from ._retrieve import EpisodeHit, SearchHit, SearchResults, Signal
from ._settings import Settings, load_settings

__version__ = "0.1.0"

__all__ = [
    "AddResult",
    "AsyncGraphMemory",
    "ConfigError",
    "Entity",
    "Episode",
    "EpisodeHit",
    "Fact",
    "GraphMemory",
    "GraphmemError",
    "InputError",
    "LLMError",
    "Message",
    "Neo4jUnavailable",
    "SchemaError",
    "ServerError",
    "Scope",
    "SearchHit",
    "SearchResults",
    "Settings",
    "Signal",
    "Triplet",
    "Usage",
    "load_settings",
]
