"""Loads the Cypher statements in cypher/*.cypher by name. No Cypher is built in Python."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

_PACKAGED = Path(__file__).parent.parent / "cypher"  # inside an installed wheel
_SOURCE = Path(__file__).parent.parent.parent / "cypher"  # in a checkout / editable install


def cypher_dir() -> Path:
    return _PACKAGED if _PACKAGED.is_dir() else _SOURCE


_INCLUDE = re.compile(r"^\s*// @include (\S+)\s*$", re.MULTILINE)


@cache
def load(name: str) -> str:
    """The text of cypher/<name>.cypher (name may contain a sub-folder, e.g. 'inspect/user_graph').

    A line `// @include fragments/x` is replaced by that file's text: shared filters are
    written once, and every piece is still a static file of this project.
    """
    path = cypher_dir() / f"{name}.cypher"
    if not path.is_file():
        raise FileNotFoundError(f"no Cypher statement named {name!r} (looked for {path})")
    text = path.read_text(encoding="utf-8")
    return _INCLUDE.sub(lambda m: _strip_comments(load(m.group(1))), text)


#: statements that cannot take query options (schema and index administration)
_ADMINISTRATION = re.compile(r"^\s*(?:CYPHER 25\s+)?(?:SHOW|CREATE|DROP)\b", re.IGNORECASE | re.MULTILINE)
#: a statement written for Cypher 25 says so on its first line
_CYPHER_25 = re.compile(r"^\s*CYPHER 25\b", re.MULTILINE)


@cache
def statement(name: str) -> str:
    """The statement as the engine sends it: with `CYPHER replan=skip`, so a plan Neo4j holds is
    kept when the data grows. Without it, a write that shifts the statistics makes the next run
    of every statement plan again, 0.1-0.4 s each (1.3 s for a first hybrid search), which
    landed on whichever search or add came next."""
    text = load(name)
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))
    if _ADMINISTRATION.match(body):
        return text
    if _CYPHER_25.match(body):  # a statement of the 2026 line (cypher/filtered/): one options line
        return _CYPHER_25.sub("CYPHER 25 replan=skip", text, count=1)
    return "CYPHER replan=skip\n" + text


def _strip_comments(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))


def statements(name: str) -> list[str]:
    """The statements of a multi-statement file, split on ';' at line ends, comments dropped."""
    text = "\n".join(line for line in load(name).splitlines() if not line.lstrip().startswith("//"))
    return [s.strip() for s in re.split(r";\s*(?:\n|$)", text) if s.strip()]
