"""graphmem: long-term graph memory for AI agents on Neo4j (Mem0g, done right)."""

from importlib import metadata as _metadata

from ._errors import (
    ConcurrentWriteError,
    ConfigError,
    GraphmemError,
    InputError,
    LLMError,
    Neo4jUnavailable,
    SchemaError,
    ServerError,
)
from ._memory import AsyncGraphMemory, GraphMemory
from ._models import AddResult, Entity, Episode, Fact, MemoryStats, Message, Rejection, Scope, Triplet, Usage
from ._settings import Settings, load_settings
from .ontology.model import Attribute, EntityType, Ontology, RelationType, load_ontology
from .search.retrieve import EpisodeHit, SearchHit, SearchResults, Signal
from .write.batch import AddWindow

try:  # one source: pyproject.toml's version, as installed
    __version__ = _metadata.version("graphmem")
except _metadata.PackageNotFoundError:  # imported from a checkout that was never installed
    __version__ = "0+unknown"

__all__ = [
    "AddResult",
    "AddWindow",
    "AsyncGraphMemory",
    "Attribute",
    "ConcurrentWriteError",
    "ConfigError",
    "Entity",
    "EntityType",
    "Episode",
    "EpisodeHit",
    "Fact",
    "GraphMemory",
    "GraphmemError",
    "InputError",
    "LLMError",
    "MemoryStats",
    "Message",
    "Neo4jUnavailable",
    "Ontology",
    "Rejection",
    "RelationType",
    "SchemaError",
    "ServerError",
    "Scope",
    "SearchHit",
    "SearchResults",
    "Settings",
    "Signal",
    "Triplet",
    "Usage",
    "load_ontology",
    "load_settings",
]
