"""The house's rules, read from the source: every import of graphmem (type-only and
function-level ones included) goes to its own layer or one below, and no module imports
itself back through others. The layers are the README's layout table, bottom first."""

from __future__ import annotations

import ast
from pathlib import Path

import graphmem

PACKAGE = Path(graphmem.__file__).parent

#: bottom first: a module may import its own layer and those before it
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("foundation", ("_errors", "_names", "_once", "_settings", "_terms", "_version")),
    ("ontology", ("ontology",)),
    ("models", ("_models", "_tracing")),
    ("llm", ("llm",)),
    ("embed", ("embed",)),
    ("store", ("store",)),
    ("cache", ("cache",)),
    ("write", ("write",)),
    ("search", ("search",)),
    ("api", ("_lanes", "_memory", "_requests", "_export", "_managed_neo4j")),
    ("serve", ("serve",)),
    ("eval", ("eval",)),
    ("integrations", ("integrations",)),
    ("cli", ("cli",)),
    ("public", ("",)),  # graphmem/__init__.py
]


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        name = ".".join(("graphmem", *parts[:-1]) if parts[-1] == "__init__" else ("graphmem", *parts))
        found[name] = path
    return found


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The graphmem modules `name` imports, wherever in the file the import is."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in known}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            submodules = {f"{target}.{alias.name}" for alias in node.names} & known
            # `from . import x` of a submodule imports x; of a name, the package itself
            found |= submodules if len(submodules) == len(node.names) else {target} | submodules
    return (found & known) - {name}


def layer_of(name: str) -> int:
    rest = name.removeprefix("graphmem").removeprefix(".")
    for level, (_, roots) in enumerate(LAYERS):
        if any(rest == root or rest.startswith(root + ".") for root in roots if root) or rest == "" == roots[0]:
            return level
    raise AssertionError(f"{name} is in no layer: add it to LAYERS and the README's layout table")


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports(name, path, set(found)) for name, path in found.items()}


def test_the_import_graph_is_read() -> None:
    edges = graph()
    assert len(edges) > 80
    assert "graphmem.store.queries" in edges["graphmem.write.match"]
    assert "graphmem.search.results" in edges["graphmem.search.associative"]  # a type-only import


def test_no_module_imports_a_layer_above_it() -> None:
    wrong = [
        f"{name} ({LAYERS[layer_of(name)][0]}) imports {target} ({LAYERS[layer_of(target)][0]})"
        for name, targets in graph().items()
        for target in sorted(targets)
        if layer_of(target) > layer_of(name)
    ]
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle() -> None:
    edges = graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []
    cycles: list[list[str]] = []

    def visit(name: str) -> None:
        state[name] = 1
        path.append(name)
        for target in sorted(edges[name]):
            if state.get(target) == 1:
                cycles.append(path[path.index(target) :] + [target])
            elif target not in state:
                visit(target)
        path.pop()
        state[name] = 2

    for name in sorted(edges):
        if name not in state:
            visit(name)
    assert not cycles, "\n".join(" -> ".join(cycle) for cycle in cycles)
