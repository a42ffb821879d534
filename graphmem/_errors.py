"""Exception hierarchy. Every message names the bad input and the fix."""


class GraphmemError(Exception):
    """Base of every error graphmem raises on purpose."""


class ConfigError(GraphmemError):
    """A setting is missing or wrong."""


class Neo4jUnavailable(GraphmemError):
    """The configured Neo4j server cannot be reached or refused the credentials."""


class SchemaError(GraphmemError):
    """The database schema is missing or does not fit the configured embedder."""


class LLMError(GraphmemError):
    """The LLM endpoint failed or kept returning output that does not fit the schema."""


class InputError(GraphmemError):
    """Input given to the API or CLI is malformed.

    Deliberately not a ValueError: raised inside a pydantic validator it propagates as
    itself, with its own message, instead of being wrapped in a ValidationError.
    """


class ServerError(GraphmemError):
    """The managed local Neo4j server could not be installed, started or stopped."""
