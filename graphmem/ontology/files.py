"""Ontology files: TOML or YAML, or a built-in one by name, loaded into an `Ontology`; a file
that breaks a rule fails naming the file, the line, the type or relation and the fix."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .._errors import ConfigError
from .model import Ontology, Problem, check, path

BUILT_IN = ("personal",)
_BUILT_IN_DIR = Path(__file__).parent.parent / "ontologies"


def load_ontology(source: str | Path) -> Ontology:
    """An ontology from a TOML or YAML file, or a built-in one by name (`personal`).

    Errors name the file, the line, the field and the problem."""
    if isinstance(source, str) and source in BUILT_IN:
        return load_ontology(_BUILT_IN_DIR / f"{source}.toml")
    file = Path(source)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        builtins = ", ".join(BUILT_IN)
        raise ConfigError(
            f"ontology file {file} does not exist (give a .toml or .yaml file, or a built-in name: {builtins})"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"ontology file {file} cannot be read: {exc}") from None
    return parse_ontology(text, file)


def chosen_ontology(choice: Ontology | str | Path | None) -> Ontology | None:
    """What a caller names as the ontology: one already built, a file or a built-in (loaded
    here, so a bad file fails where it is named), or none."""
    return choice if isinstance(choice, Ontology) or choice is None else load_ontology(choice)


def parse_ontology(text: str, file: Path) -> Ontology:
    is_yaml = file.suffix.lower() in (".yaml", ".yml")
    try:
        data = yaml.safe_load(text) if is_yaml else tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{file}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"{file}: an ontology file holds a table (name, mode, entity_types, relations), not {type(data).__name__}"
        )
    lines = _YamlLines(text) if is_yaml else _TomlLines(text)
    try:
        ontology = Ontology.model_validate(data, context={"problems_later": True})
    except ValidationError as exc:
        problems = [Problem(tuple(e["loc"]), e["msg"].removeprefix("Value error, ") + _got(e)) for e in exc.errors()]
        raise ConfigError(_report(file, problems, lines, data)) from None
    problems = list(check(ontology))
    if problems:
        raise ConfigError(_report(file, problems, lines, data))
    return ontology


def _got(error: Any) -> str:
    if error["type"] in ("missing", "extra_forbidden"):
        return ""
    return f" (got {error['input']!r:.60})"


def _report(file: Path, problems: list[Problem], lines: _Lines, data: dict[str, Any]) -> str:
    out = []
    for p in problems:
        line = lines.find(p.location)
        owner = _owner(data, p.location)
        where = f"{file}:{line}" if line else str(file)
        out.append(f"{where}: {path(p.location)}{owner}: {p.message}")
    head = "the ontology file has a problem" if len(out) == 1 else f"the ontology file has {len(out)} problems"
    return f"{head}:\n  " + "\n  ".join(out)


def _owner(data: dict[str, Any], location: tuple[str | int, ...]) -> str:
    """The declared name the location is inside, for messages: ` (relation 'opened')`."""
    if len(location) >= 2 and location[0] in ("entity_types", "relations") and isinstance(location[1], int):
        items = data.get(str(location[0]))
        if isinstance(items, list) and location[1] < len(items) and isinstance(items[location[1]], dict):
            name = items[location[1]].get("name")
            if isinstance(name, str):
                kind = "type" if location[0] == "entity_types" else "relation"
                return f" ({kind} {name!r})"
    return ""


class _Lines:
    def find(self, location: tuple[str | int, ...]) -> int | None:
        raise NotImplementedError


class _YamlLines(_Lines):
    """Line numbers from PyYAML's node tree (its marks)."""

    def __init__(self, text: str):
        try:
            self.root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError:
            self.root = None

    def find(self, location: tuple[str | int, ...]) -> int | None:
        node, line = self.root, None
        for part in location:
            if node is None:
                break
            line = node.start_mark.line + 1
            if isinstance(node, yaml.MappingNode) and isinstance(part, str):
                node = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
            else:
                node = None
        return node.start_mark.line + 1 if node is not None else line


class _TomlLines(_Lines):
    """Line numbers by reading the text: tomllib keeps none. Finds `[[entity_types]]` /
    `[[relations]]` headers by count, then the key inside that block; falls back to the
    nearest enclosing line found."""

    _HEADER = re.compile(r"^\s*\[\[\s*([A-Za-z0-9_.\"' -]+?)\s*\]\]")
    _TABLE = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\"' -]+?)\s*\]")

    def __init__(self, text: str):
        self.lines = text.splitlines()

    def find(self, location: tuple[str | int, ...]) -> int | None:
        if not location:
            return None
        top = str(location[0])
        if len(location) >= 2 and isinstance(location[1], int):
            starts = [i for i, line in enumerate(self.lines) if (m := self._HEADER.match(line)) and m.group(1) == top]
            if location[1] >= len(starts):
                return self._key_line(0, len(self.lines), top)
            start = starts[location[1]]
            end = next(
                (i for i in range(start + 1, len(self.lines)) if self._HEADER.match(self.lines[i])), len(self.lines)
            )
            rest = [str(p) for p in location[2:] if isinstance(p, str)]
            line = start + 1
            for key in rest:
                found = self._key_line(start + 1, end, key) or self._table_line(start + 1, end, f"{top}.{key}")
                if found is None:
                    break
                line = found
                start = found - 1
            return line
        return self._key_line(0, len(self.lines), top) or self._table_line(0, len(self.lines), top)

    def _key_line(self, start: int, end: int, key: str) -> int | None:
        pattern = re.compile(rf"^\s*(?:{re.escape(key)}|\"{re.escape(key)}\")\s*[=.]")
        return next((i + 1 for i in range(start, end) if pattern.match(self.lines[i])), None)

    def _table_line(self, start: int, end: int, name: str) -> int | None:
        return next(
            (i + 1 for i in range(start, end) if (m := self._TABLE.match(self.lines[i])) and m.group(1) == name), None
        )
