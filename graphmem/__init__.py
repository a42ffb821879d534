"""graphmem: long-term graph memory for AI agents on Neo4j (Mem0g, done right)."""

from ._errors import (
    BusyError,
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
from ._models import (
    AddResult,
    Entity,
    Episode,
    Fact,
    MemoryInfo,
    MemoryStats,
    Message,
    Rejection,
    Scope,
    Triplet,
    Usage,
)
from ._settings import Settings, load_settings
from ._version import __version__ as __version__
from .ontology.files import load_ontology
from .ontology.model import Attribute, EntityType, Ontology, RelationType
from .search.results import EpisodeHit, SearchHit, SearchResults, Signal
from .write.batch import AddWindow

__all__ = [
    "AddResult",
    "AddWindow",
    "AsyncGraphMemory",
    "BusyError",
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
    "MemoryInfo",
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
