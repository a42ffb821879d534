"""What an add is given, parsed and checked: messages, metadata, its timestamp."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from .._errors import InputError, input_error
from .._models import Message, as_utc, check_text, utcnow

MessagesInput = str | dict[str, Any] | Message | Sequence[dict[str, Any] | Message | str]


def parse_messages(messages: MessagesInput) -> list[Message]:
    """A string, one message dict or a list of OpenAI-style messages -> list[Message]."""
    if isinstance(messages, (str, dict, Message)):
        items = [messages]
    elif isinstance(messages, Iterable) and not isinstance(messages, (bytes, bytearray)):
        items = list(messages)
    else:
        raise InputError(f"add() got a {type(messages).__name__}: expected a str, a dict or a list of them")
    if not items:
        raise InputError("add() got no messages: pass a string, a message dict or a list of them")
    parsed = []
    for position, item in enumerate(items):
        try:
            if isinstance(item, Message):
                parsed.append(item)
            elif isinstance(item, str):
                parsed.append(Message(role="user", content=item))
            elif isinstance(item, dict):
                parsed.append(Message.model_validate(item))
            else:
                raise InputError(f"a {type(item).__name__} is not a message; expected a str or a dict")
        except InputError as exc:
            raise InputError(f"message {position}: {exc}") from None
        except ValidationError as exc:
            raise input_error(exc, f"message {position}", "message") from None
    return parsed


def check_metadata(metadata: dict[str, Any] | None) -> None:
    """Metadata is stored on the messages as JSON text: it must be a JSON object of storable text."""
    if metadata is None:
        return
    if not isinstance(metadata, dict):
        raise InputError(f"metadata must be a dict, got {type(metadata).__name__}")
    try:
        check_text(json.dumps(metadata, ensure_ascii=False), "metadata")
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"metadata is not JSON-serialisable ({exc}): give str, number, bool, list or dict values"
        ) from None


_TIMESTAMP = TypeAdapter(datetime)


def _timestamp(value: datetime | str | None) -> datetime | None:
    """The `timestamp=` of an add: a datetime or an ISO 8601 string, as a message's own is."""
    if value is None or isinstance(value, datetime):
        return value
    try:
        return _TIMESTAMP.validate_python(value)
    except ValidationError as exc:
        raise input_error(exc, "timestamp") from None


def valid_from(timestamp: datetime | str | None, messages: list[Message]) -> datetime:
    timestamp = _timestamp(timestamp)
    if timestamp is not None:
        return as_utc(timestamp)
    stamps = [as_utc(m.timestamp) for m in messages if m.timestamp is not None]
    return max(stamps) if stamps else utcnow()
