"""Names as graphmem stores them: entity names folded for matching, type labels and relation
names in the one shape each may take."""

from __future__ import annotations

import re

# Entity type labels and relation names come from an LLM or a user: they are untrusted.
# They are normalised into these shapes and only ever reach Neo4j as parameters.
LABEL_PATTERN = re.compile(r"^[A-Z][A-Za-z0-9]{0,63}$")
RELATION_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def normalize_name(name: str) -> str:
    """Case, whitespace and punctuation folded: 'ALICE ', 'alice' and 'Alice.' are one name."""
    folded = re.sub(r"[^\w]+", " ", name.casefold(), flags=re.UNICODE)
    return " ".join(folded.split()) or name.strip().casefold()


def normalize_label(label: str | None) -> str:
    """Any LLM-made type becomes a PascalCase label matching LABEL_PATTERN, or 'Entity'."""
    words = re.findall(r"[A-Za-z0-9]+", label or "")
    candidate = "".join(w[:1].upper() + w[1:] for w in words)[:64]
    if candidate and not candidate[0].isalpha():
        candidate = "T" + candidate[:63]
    return candidate if candidate and LABEL_PATTERN.match(candidate) else "Entity"


def normalize_relation(relation: str) -> str:
    """Any LLM-made relation becomes snake_case matching RELATION_PATTERN."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", relation or "")
    words = re.findall(r"[a-z0-9]+", spaced.casefold())
    candidate = "_".join(words)[:64].strip("_")
    if candidate and not candidate[0].isalpha():
        candidate = "r_" + candidate[:62]
    return candidate if candidate and RELATION_PATTERN.match(candidate) else "related_to"


def relation_phrase(relation: str) -> str:
    """A relation name as the words it stands for ("works_at" -> "works at"), as embedded."""
    return relation.replace("_", " ")
