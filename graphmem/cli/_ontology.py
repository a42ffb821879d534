"""`graphmem ontology show`, `check` and `grass`: what the memory may hold, and how Browser draws it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from .._errors import ConfigError
from ..ontology.files import BUILT_IN, load_ontology
from ..ontology.model import Ontology
from ..ontology.style import browser_style
from ..store.statements import cypher_dir
from ._common import EXIT_CODES, clean_errors, console, out, print_json, settings

SourceArg = Annotated[
    str | None, typer.Argument(help=f"A file or built-in ({', '.join(BUILT_IN)}); default: GRAPHMEM_ONTOLOGY.")
]

ontology_app = typer.Typer(help="The entity types and relations a memory holds.", no_args_is_help=True)


@ontology_app.command()
def show(
    source: SourceArg = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Print the active ontology (or the one given)."""
    with clean_errors():
        chosen = source or settings().ontology
        if chosen is None:
            out.print(
                "No ontology is set: types and relations are whatever the extractor finds, and the LLM "
                "resolver decides every conflict. Set GRAPHMEM_ONTOLOGY to a file or to a built-in "
                f"({', '.join(BUILT_IN)}); `graphmem ontology show personal` prints the built-in one."
            )
            return
        ontology = load_ontology(chosen)
        if as_json:
            print_json({"fingerprint": ontology.fingerprint, **ontology.model_dump()})
            return
        _print(ontology, chosen)


@ontology_app.command()
def check(files: Annotated[list[Path], typer.Argument(help="Ontology files (TOML or YAML).")]) -> None:
    """Validate ontology files; errors name the file, the line and the field."""
    failed = 0
    for file in files:
        try:
            ontology = load_ontology(file)
        except ConfigError as exc:
            failed += 1
            console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            continue
        out.print(
            f"ok: {escape(str(file))}: ontology {ontology.name!r}, {ontology.mode}, "
            f"{len(ontology.entity_types)} entity types, {len(ontology.relations)} relations",
            highlight=False,
            soft_wrap=True,
        )
    if failed:
        raise typer.Exit(EXIT_CODES[ConfigError])


@ontology_app.command()
def grass(
    source: SourceArg = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the style here.")] = None,
) -> None:
    """Neo4j Browser style (GraSS) for the ontology: a colour per declared type, captioned by name.
    Drop the file into Browser (see docs/inspect.md)."""
    with clean_errors():
        chosen = source or settings().ontology
        if chosen is None:
            raise ConfigError("no ontology given: name a file or a built-in, or set GRAPHMEM_ONTOLOGY")
        style = browser_style(load_ontology(chosen), (cypher_dir() / "inspect" / "graphmem.grass").read_text())
        if output is None:
            out.print(style, markup=False, highlight=False, soft_wrap=True, end="")
        else:
            output.write_text(style, encoding="utf-8")
            console.print(f"wrote {escape(str(output))}")


def _print(ontology: Ontology, source: str) -> None:
    out.print(
        f"[bold]{escape(ontology.name)}[/] ({ontology.mode}, from {escape(source)}, fingerprint {ontology.fingerprint})"
    )
    if ontology.description:
        out.print(escape(ontology.description))
    types = Table("type", "kind of", "attributes", "description", title="entity types")
    for t in ontology.entity_types:
        attributes = ", ".join(f"{name}: {a.type}" for name, a in t.attributes.items())
        types.add_row(t.name, t.parent or "", escape(attributes), escape(t.description))
    out.print(types)
    relations = Table("relation", "source -> target", "values per source", "also", "description", title="relations")
    for r in ontology.relations:
        also = "symmetric" if r.symmetric else (f"inverse {r.inverse}" if r.inverse else "")
        ends = f"{' | '.join(r.source) or 'any'} -> {' | '.join(r.target) or 'any'}"
        relations.add_row(r.name, ends, r.cardinality, also, escape(r.description))
    out.print(relations)
    if ontology.custom_instructions.strip():
        out.print("[bold]custom instructions[/]\n" + escape(ontology.custom_instructions.strip()))
