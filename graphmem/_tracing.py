"""OpenTelemetry spans for operators: an add and its stages, a search, each model call.

Only `opentelemetry-api` is a dependency: until the application installs an SDK and a
tracer provider, every span is a no-op. The API is imported at the first span, so commands
that never add or search do not load it. Span names and attributes: the README's
"Tracing". Texts (turns, queries, facts) are never recorded, only ids, counts and sizes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer

    from ._models import Scope

_tracer: Tracer | None = None

Attribute = str | bool | int | float


def tracer() -> Tracer:
    global _tracer
    if _tracer is None:
        from opentelemetry import trace

        _tracer = trace.get_tracer("graphmem", __version__)
    return _tracer


@contextmanager
def span(name: str, attributes: Mapping[str, Attribute | None] | None = None) -> Iterator[Span]:
    """A span named `name`, the current one's child; attributes given as None are not set."""
    kept: dict[str, Any] = {key: value for key, value in (attributes or {}).items() if value is not None}
    with tracer().start_as_current_span(name, attributes=kept) as current:
        yield current


def scope_attributes(scope: Scope) -> dict[str, Attribute | None]:
    """The scope's ids, as span attributes."""
    return {"graphmem.user_id": scope.user_id, "graphmem.agent_id": scope.agent_id, "graphmem.run_id": scope.run_id}
