"""Every id graphmem derives, from one rule: sha256 over the parts joined by the unit
separator, 32 hex digits. Deterministic ids make re-ingesting idempotent and let the
uniqueness constraints settle racing adds."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime

from .._models import Message, Scope

__all__ = ["entity_id", "fact_id", "message_node_id", "scope_clock_id", "stable_id"]


def stable_id(*parts: str) -> str:
    # surrogatepass: a lone surrogate in a name still hashes, as it is stored
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def entity_id(scope: Scope, normalized: str) -> str:
    """The same name in the same scope is the same node, even under concurrent adds."""
    return stable_id(scope.key, normalized)


def scope_clock_id(scope: Scope) -> str:
    """The key of the scope's write clock: fixed-size, as an index needs (a scope's ids may
    each be thousands of characters)."""
    return stable_id("scope-clock", scope.key)


def fact_id(scope: Scope, source_id: str, relation: str, target_id: str, valid_from: datetime) -> str:
    """The same fact said at the same time in the same scope gets the same id."""
    return stable_id(scope.key, source_id, relation, target_id, valid_from.isoformat())


def message_node_id(scope: Scope, message: Message) -> str:
    """Messages with a caller id are idempotent per scope; others are always new turns."""
    if message.id is None:
        return uuid.uuid4().hex
    return stable_id(scope.key, message.id)
