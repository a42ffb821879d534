"""Exception hierarchy. Every message names the bad input and the fix."""

from __future__ import annotations

from pydantic import ValidationError


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


class ConcurrentWriteError(GraphmemError):
    """Other writers kept changing a scope between an add's reads and its write; nothing of the
    add was stored."""


class BusyError(GraphmemError):
    """Too many adds are waiting to be stored: this one was refused, nothing of it stored.
    `retry_after`: seconds to wait before sending it again."""

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class ServerError(GraphmemError):
    """The managed local Neo4j server could not be installed, started or stopped."""


def input_error(exc: ValidationError, where: str, default_field: str | None = None) -> InputError:
    """A pydantic ValidationError as an InputError naming where (e.g. "message 3"), the field
    and the problem: "message 3: timestamp: Input should be a valid datetime"."""
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or default_field
    detail = first["msg"].removeprefix("Value error, ")
    return InputError(f"{where}: {field}: {detail}" if field else f"{where}: {detail}")


def short(text: str, limit: int = 1500) -> str:
    """`text` cut at `limit` characters: a detail quoted in an error message (a model's answer,
    an endpoint's reply) stays readable."""
    return text if len(text) <= limit else text[:limit] + " ..."
