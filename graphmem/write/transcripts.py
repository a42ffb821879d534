"""Transcript readers: JSON Lines, OpenAI-style JSON chat, plain `Speaker: text`, LOCOMO.

Each reader returns Conversations (a scope suffix and its messages). Every message gets
a stable id derived from the file's name and position, so re-ingesting a file adds
nothing twice. Errors name the file, the line and what was expected.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ValidationError

from .._errors import InputError, input_error
from .._models import Message

Format = Literal["auto", "jsonl", "json", "text", "locomo"]
FORMATS = ("auto", "jsonl", "json", "text", "locomo")

_TEXT_LINE = re.compile(r"^\s*(?:\[(?P<ts>[^\]]+)\]\s*)?(?P<speaker>[^:\n]{1,64}):\s?(?P<text>.*)$")
_TEXT_HEADER = re.compile(r"^\s*#+\s*(?P<ts>\d{4}-\d{2}-\d{2}[T ]?[\d:]*(?:Z|[+-]\d{2}:?\d{2})?)\s*$")
_LOCOMO_DATE = "%I:%M %p on %d %B, %Y"


class Conversation(BaseModel):
    """Messages to ingest into one scope. `user_id` set by formats that carry their own
    speakers' scopes (LOCOMO: each speaker's memory is its own user scope)."""

    user_id: str | None = None
    messages: list[Message]


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not UTF-8 text (byte {exc.start}): convert it, e.g. `iconv -f latin1 -t utf-8`"
        ) from None


def _id(path: Path, position: str) -> str:
    digest = hashlib.sha256(path.name.encode()).hexdigest()[:12]
    return f"{digest}:{position}"


def parse_time(value: str, where: str) -> datetime:
    text = value.strip()
    parsers: tuple[Callable[[str], datetime], ...] = (
        lambda v: datetime.fromisoformat(v.replace("Z", "+00:00")),
        lambda v: datetime.strptime(v, _LOCOMO_DATE),
    )
    for parse in parsers:
        try:
            parsed = parse(text)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except ValueError:
            continue
    raise InputError(f"{where}: timestamp {value!r} is not ISO 8601 (e.g. 2025-01-06T09:00:00Z)")


def _message(data: object, where: str, message_id: str) -> Message:
    if not isinstance(data, dict):
        raise InputError(f'{where}: expected an object like {{"role": "user", "content": "..."}}')
    fields = dict(data)
    if isinstance(fields.get("timestamp"), str):
        fields["timestamp"] = parse_time(fields["timestamp"], where)
    fields.setdefault("id", message_id)
    try:
        return Message.model_validate(fields)
    except ValidationError as exc:
        raise input_error(exc, where) from None
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None


def read_jsonl(path: Path) -> list[Conversation]:
    messages = []
    for number, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{path}:{number}: invalid JSON ({exc.msg}); each line must be one message object"
            ) from None
        messages.append(_message(data, f"{path}:{number}", _id(path, str(number))))
    return [Conversation(messages=_non_empty(messages, path))]


def read_json(path: Path) -> list[Conversation]:
    try:
        data = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from None
    if isinstance(data, dict) and "messages" in data:
        data = data["messages"]
    if not isinstance(data, list):
        raise InputError(f"{path}: expected a JSON list of messages (or an object with a 'messages' list)")
    messages = [_message(item, f"{path}: message {i}", _id(path, str(i))) for i, item in enumerate(data)]
    return [Conversation(messages=_non_empty(messages, path))]


def read_text(path: Path) -> list[Conversation]:
    messages: list[Message] = []
    current: datetime | None = None
    for number, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        if header := _TEXT_HEADER.match(line):
            current = parse_time(header["ts"], f"{path}:{number}")
            continue
        match = _TEXT_LINE.match(line)
        if not match or not match["text"].strip():
            raise InputError(f"{path}:{number}: expected 'Speaker: text' (optionally '[timestamp] Speaker: text')")
        stamp = parse_time(match["ts"], f"{path}:{number}") if match["ts"] else current
        speaker = match["speaker"].strip()
        role = "assistant" if speaker.casefold() in {"assistant", "ai", "bot"} else "user"
        messages.append(
            Message(
                role=role,
                name=None if role == "assistant" else speaker,
                content=match["text"].strip(),
                timestamp=stamp,
                id=_id(path, str(number)),
            )
        )
    return [Conversation(messages=_non_empty(messages, path))]


def read_locomo(path: Path) -> list[Conversation]:
    """LOCOMO: each speaker's memory is its own user scope (`<sample_id>:<speaker>`), as in the
    Mem0 paper; every turn, of either speaker, goes into both, with the session date as timestamp."""
    try:
        data = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from None
    if not isinstance(data, list) or not data or "conversation" not in data[0]:
        raise InputError(f"{path}: not a LOCOMO file (expected a list of samples with a 'conversation')")
    conversations = []
    for sample in data:
        conv = sample["conversation"]
        messages = []
        for key in sorted((k for k in conv if re.fullmatch(r"session_\d+", k)), key=lambda k: int(k.split("_")[1])):
            stamp = parse_time(conv[f"{key}_date_time"], f"{path}: {sample['sample_id']} {key}")
            for turn in conv[key]:
                messages.append(
                    Message(
                        role="user",
                        name=turn["speaker"],
                        content=turn["text"],
                        timestamp=stamp,
                        id=f"{sample['sample_id']}:{turn['dia_id']}",
                    )
                )
        for speaker in (conv["speaker_a"], conv["speaker_b"]):
            conversations.append(Conversation(user_id=f"{sample['sample_id']}:{speaker}", messages=messages))
    return conversations


def _non_empty(messages: list[Message], path: Path) -> list[Message]:
    if not messages:
        raise InputError(f"{path}: holds no messages")
    return messages


def detect_format(path: Path) -> str:
    if path.suffix == ".jsonl":
        return "jsonl"
    if path.suffix == ".json":
        head = _read_text(path)[:4096]
        return "locomo" if '"conversation"' in head and '"qa"' in _read_text(path) else "json"
    return "text"


def read_transcript(path: Path, fmt: Format = "auto") -> list[Conversation]:
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    kind = detect_format(path) if fmt == "auto" else fmt
    reader = {"jsonl": read_jsonl, "json": read_json, "text": read_text, "locomo": read_locomo}[kind]
    return reader(path)
