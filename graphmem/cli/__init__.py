"""The `graphmem` command line (typer + rich)."""

from __future__ import annotations

import typer

from . import _eval, _memory, _neo4j, _ontology, _serve

app = typer.Typer(
    name="graphmem",
    help="Long-term graph memory for AI agents on Neo4j.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        from .._version import __version__

        typer.echo(f"graphmem {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Long-term graph memory for AI agents on Neo4j."""


app.add_typer(_neo4j.neo4j_app, name="neo4j")
app.add_typer(_eval.eval_app, name="eval")
app.add_typer(_ontology.ontology_app, name="ontology")
app.command()(_neo4j.init)
app.command()(_neo4j.cypher)
app.command()(_neo4j.browser)
app.command()(_memory.demo)
app.command()(_memory.ingest)
app.command()(_memory.search)
app.command()(_memory.facts)
app.command()(_memory.history)
app.command()(_memory.export)
app.command()(_memory.stats)
app.command()(_memory.delete)
app.command()(_serve.mcp)
app.command()(_serve.serve)


def main() -> None:
    app()
