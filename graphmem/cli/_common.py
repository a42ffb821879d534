"""What every CLI command shares: settings, connecting, output, and turning errors into
one clear line and a documented exit code."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console

from .. import _managed_neo4j
from .._errors import ConfigError, GraphmemError, InputError, LLMError, Neo4jUnavailable, SchemaError, ServerError
from .._memory import GraphMemory
from .._settings import Settings, load_settings
from ..ontology.files import chosen_ontology
from ..store.transport import Store

console = Console(stderr=True)
out = Console()

#: exit codes, documented in the README
EXIT_CODES: dict[type[GraphmemError], int] = {
    InputError: 2,
    Neo4jUnavailable: 3,
    ConfigError: 4,
    LLMError: 5,
    SchemaError: 6,
    ServerError: 7,
}


def exit_code(exc: GraphmemError) -> int:
    for kind, code in EXIT_CODES.items():
        if isinstance(exc, kind):
            return code
    return 1


@contextmanager
def clean_errors() -> Iterator[None]:
    """Expected failures end with one line naming the problem and the fix, no traceback."""
    try:
        yield
    except GraphmemError as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True, soft_wrap=True)
        raise typer.Exit(exit_code(exc)) from None


def settings() -> Settings:
    return load_settings()


def connect(cfg: Settings, *, start_managed: bool = False) -> Store:
    """A Store on the configured server; with `start_managed`, the managed server is started
    when no NEO4J_URI is configured."""
    if cfg.managed:
        status = _managed_neo4j.status(cfg)
        if not status.running:
            if not start_managed:
                raise Neo4jUnavailable(
                    f"the managed Neo4j is not running ({status.bolt_uri}): start it with `graphmem neo4j start`, "
                    "or set NEO4J_URI to your own server"
                )
            console.print("[cyan]No NEO4J_URI configured: starting the managed local Neo4j...[/]")
            status = _managed_neo4j.ensure_running(cfg)
            console.print(f"Neo4j {status.version} at {status.bolt_uri}, Browser at {status.http_url}/browser/")
    return Store.connect(cfg)


def open_memory(
    cfg: Settings, *, start_managed: bool = False, announce: bool = True, search_cache: bool = False
) -> GraphMemory:
    """The memory a command works on. Only long-running commands (serve, mcp, eval) ask for the
    search cache: in a one-shot command its load after a scope's first search would only delay
    the exit."""
    from ..embed import make_embedder
    from ..llm import make_llm

    if not search_cache:
        cfg = cfg.model_copy(update={"search_cache_mb": 0})

    ontology = chosen_ontology(cfg.ontology)  # a bad file fails before Neo4j starts
    store = connect(cfg, start_managed=start_managed)
    llm = make_llm(cfg)
    if announce and llm.is_fallback:
        console.print(
            "[yellow]No LLM configured: using the offline rule-based extractor (a low-recall fallback). "
            "Set OPENAI_API_KEY or OPENAI_BASE_URL to use a model.[/]"
        )
    return GraphMemory(store, llm=llm, embedder=make_embedder(cfg), settings=cfg, ontology=ontology)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")


def parse_params(items: list[str]) -> dict[str, Any]:
    """`k=v` pairs; v is read as JSON when it parses (numbers, lists, true), else as a string."""
    params: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise InputError(f"--param {item!r}: expected key=value, e.g. --param name=Alice")
        try:
            params[key] = json.loads(raw)
        except json.JSONDecodeError:
            params[key] = raw
    return params
