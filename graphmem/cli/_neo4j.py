"""`graphmem neo4j start|stop|status`, `graphmem init`, `graphmem cypher`, `graphmem browser`."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Annotated

import typer
from neo4j.exceptions import ClientError
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from .. import _managed_neo4j
from .._errors import InputError
from ..embed.base import Embedder
from ..ontology.files import chosen_ontology
from ..ontology.model import change_warning
from ..store.backfill import backfill_episodes, episodes_missing
from ..store.queries import Queries
from ..store.schema import apply_schema
from ._common import clean_errors, connect, console, out, parse_params, print_json, settings

neo4j_app = typer.Typer(help="The managed local Neo4j (used when NEO4J_URI is not set).", no_args_is_help=True)


@neo4j_app.command("start")
def start(wait: Annotated[float, typer.Option(help="Seconds to wait for Bolt to answer.")] = 180.0) -> None:
    """Download Neo4j 5.26 on first use, start it on 127.0.0.1 and wait until Bolt answers."""
    with clean_errors():
        cfg = settings()
        console.print("Starting the managed Neo4j (the first start downloads ~140 MB from Maven Central)...")
        status = _managed_neo4j.start(cfg, wait_seconds=wait)
        out.print(f"Neo4j {status.version} {status.edition or ''} running (pid {status.pid})")
        out.print(f"  Bolt:     {status.bolt_uri}  (user neo4j, password in {status.password_file})")
        out.print(f"  Browser:  {status.http_url}/browser/")
        out.print(f"  Logs:     {status.logs}")


@neo4j_app.command("stop")
def stop() -> None:
    """Stop the managed Neo4j cleanly (data stays for the next start)."""
    with clean_errors():
        was_running = _managed_neo4j.stop(settings())
        out.print("Neo4j stopped." if was_running else "Neo4j was not running.")


@neo4j_app.command("status")
def status(as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False) -> None:
    """Running or stopped, version, Bolt URI and Browser URL."""
    with clean_errors():
        state = _managed_neo4j.status(settings())
        if as_json:
            print_json(state.to_json())
            return
        word = "[green]running[/]" if state.running else "[red]stopped[/]"
        out.print(f"Neo4j {state.version or '(not installed)'}: {word}")
        out.print(f"  Bolt:     {state.bolt_uri}")
        out.print(f"  Browser:  {state.http_url}/browser/")
        out.print(f"  Logs:     {state.logs}")
        if not state.running:
            raise typer.Exit(1)


def init(
    reembed: Annotated[
        bool,
        typer.Option(
            "--reembed",
            help="Embed every stored entity, fact and turn again with the configured embedder (after a change "
            "of GRAPHMEM_EMBEDDER, GRAPHMEM_EMBEDDING_MODEL or GRAPHMEM_EMBEDDING_DIM); a stopped run goes on where it stopped.",
        ),
    ] = False,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Items per embedding call and transaction of --reembed.")
    ] = 256,
) -> None:
    """Create graphmem's constraints and indexes (idempotent) and wait until they are online.

    --reembed first embeds every stored entity, fact and turn again with the configured embedder."""
    with clean_errors():
        from ..embed import make_embedder

        cfg = settings()
        ontology = chosen_ontology(cfg.ontology)  # a bad file fails first
        store = connect(cfg)
        try:
            embedder = make_embedder(cfg)
            if reembed:  # before apply_schema, which refuses a memory of another embedder
                _reembed(Queries(store), embedder, batch_size)
            with Progress(*_bar_columns(), console=console, transient=True) as bar:
                building: dict[str, TaskID] = {}

                def built(index: str, percent: float) -> None:  # vector indexes rebuilt with filters
                    if index not in building:
                        building[index] = bar.add_task(f"building {index} (%)", total=100)
                    bar.update(building[index], completed=percent)

                state = apply_schema(Queries(store), dim=embedder.dim, model=embedder.model_name, progress=built)
            table = Table("index", "state", title=f"graphmem schema v{state.version} ({state.model}, {state.dim} dims)")
            for name, index_state in sorted(state.indexes.items()):
                table.add_row(name, index_state)
            out.print(table)
            filtering = (
                "the node matcher, the conflict lookup and the vector searches search the vector indexes "
                "filtered by scope"
                if state.vector_filters
                else "vector indexes cannot filter by scope: small scopes are scanned, large ones widen k"
            )
            out.print(f"Neo4j {state.server_version or '(version unknown)'}: {filtering}")
            before = Queries(store).ontology_record(
                name=ontology.name if ontology else None, fingerprint=ontology.fingerprint if ontology else None
            )
            recorded = (before["name"], before["fingerprint"]) if before["recorded"] else None
            if (warning := change_warning(recorded, ontology)) is not None:
                console.print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)
            if ontology is not None:
                out.print(
                    f"ontology {escape(repr(ontology.name))} ({ontology.mode}, fingerprint {ontology.fingerprint})"
                )
            missing = episodes_missing(Queries(store))
            if missing:
                # turns stored before schema 2 get embeddings, turns stemmed otherwise new stems
                with Progress(*_bar_columns(), console=console) as bar:
                    task = bar.add_task("updating stored turns", total=missing)
                    done = backfill_episodes(Queries(store), embedder, progress=lambda n: bar.advance(task, n))
                out.print(f"{done:,} stored turns updated (embedded or re-stemmed: episodes are searchable)")
            # running searches reload their scopes' vectors: neither the backfill above nor a
            # change made outside graphmem (Cypher typed in the Browser) moved a scope clock
            Queries(store).expire_scope_clocks()
        finally:
            store.close()


def _bar_columns() -> list[ProgressColumn]:
    return [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]


class _Stopped(Exception):
    """Ctrl-C during `init --reembed`: raised after the batch under way committed."""


def _reembed(queries: Queries, embedder: Embedder, batch: int) -> None:
    """`init --reembed`: a progress bar per kind, and one for the vector indexes. A first Ctrl-C
    stops after the batch under way (a KeyboardInterrupt raised in the driver could be lost in
    a finalizer), a second one at once; either way a second run goes on where this one stopped."""
    from ..store.reembed import KIND_LABELS, KINDS, Step, plan_reembed, remaining, run_reembed

    plan = plan_reembed(queries, embedder)
    if not plan.needed:
        out.print(escape(plan.describe()), soft_wrap=True)
        return
    console.print(escape(plan.describe()) + "...", soft_wrap=True)
    left = remaining(queries, plan)
    stop = threading.Event()

    def on_interrupt(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        console.print("[yellow]stopping after the batch under way[/] (Ctrl-C again to stop at once)")

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        with Progress(*_bar_columns(), console=console) as bar:
            tasks: dict[Step, TaskID] = {
                kind: bar.add_task(f"re-embedding {KIND_LABELS[kind]}", total=left[kind]) for kind in KINDS
            }
            tasks["indexes"] = bar.add_task(f"vector indexes at {plan.dim} dims", total=1)

            def progress(step: Step, n: int) -> None:
                bar.advance(tasks[step], n)
                if stop.is_set():
                    raise _Stopped

            done = run_reembed(queries, embedder, plan, batch=batch, progress=progress)
    except (_Stopped, KeyboardInterrupt):
        console.print(
            "[yellow]stopped:[/] the memory cannot be opened until the re-embedding is finished: "
            "run `graphmem init --reembed` again to go on where it stopped",
            soft_wrap=True,
        )
        raise typer.Exit(130) from None
    finally:
        signal.signal(signal.SIGINT, previous)
    counts = ", ".join(f"{done[kind]:,} {KIND_LABELS[kind]}" for kind in KINDS)
    out.print(f"re-embedded with {escape(plan.model)} ({plan.dim} dims): {counts}", soft_wrap=True)


def cypher(
    query: Annotated[str, typer.Argument(help="The Cypher statement to run.")],
    param: Annotated[list[str], typer.Option("--param", "-p", help="Parameter key=value (repeatable).")] = [],  # noqa: B006
    write: Annotated[
        bool, typer.Option("--write", help="Allow writes (the default is a read-only transaction).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Run a query against the configured database, read-only unless --write."""
    with clean_errors():
        store = connect(settings())
        params = parse_params(param)
        try:
            if write:
                rows = store.run_text(query, params, write=True)
                keys = list(rows[0].keys()) if rows else []
            else:
                keys, rows = store.run_read_only(query, params)
        except ClientError as exc:
            hint = " (writes need --write)" if "write" in (exc.message or "").lower() else ""
            raise InputError(f"Neo4j refused the query: {exc.message}{hint}") from None
        if as_json:
            print_json(rows)
            return
        table = Table(*keys) if keys else Table("(no rows)")
        for row in rows:
            table.add_row(*(escape(str(row[k])) for k in keys))
        out.print(table)
        console.print(f"{len(rows)} row(s)")


def browser() -> None:
    """Print the Neo4j Browser URL and the connection details to paste into it."""
    with clean_errors():
        cfg = settings()
        if cfg.managed:
            state = _managed_neo4j.status(cfg)
            out.print(f"Browser:   {state.http_url}/browser/   ({'running' if state.running else 'stopped'})")
            out.print(f"Connect:   {state.bolt_uri}   user neo4j   password in {state.password_file}")
        else:
            out.print(f"Connect your Browser to {cfg.bolt_uri} as {cfg.neo4j_user} (database {cfg.neo4j_database}).")
        out.print("Saved queries: cypher/inspect/*.cypher; style: cypher/inspect/graphmem.grass (see README).")
