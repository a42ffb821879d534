"""Memory commands: demo (the main job), ingest, search, facts, history, export, stats, delete."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal, cast

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .._errors import InputError
from .._memory import GraphMemory
from .._models import Fact, Scope
from .._requests import SearchRequest
from ..embed import LazyEmbedder
from ..search.recipes import DEFAULT_EPISODES, DEFAULT_MODE, MODES
from ..store.schema import apply_schema
from ..write.ingest import IngestStats, ingest_windows, windows_of
from ..write.transcripts import FORMATS, Conversation, Format, read_transcript
from ._common import clean_errors, console, open_memory, out, print_json, settings

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample_transcript.jsonl"
SAMPLE_QUERY = "Where does Maya live now, and where does her sister work?"

UserOpt = Annotated[str | None, typer.Option("--user", "-u", help="user_id scope.")]
AgentOpt = Annotated[str | None, typer.Option("--agent", help="agent_id scope.")]
RunOpt = Annotated[str | None, typer.Option("--run", help="run_id scope.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _scope(user: str | None, agent: str | None, run: str | None) -> Scope:
    try:
        return Scope(user_id=user, agent_id=agent, run_id=run)
    except InputError:
        raise InputError("give a scope: --user NAME (and/or --agent, --run)") from None


def _facts_table(facts: list[Fact], title: str) -> Table:
    table = Table("valid from", "until", "source", "relation", "target", "fact", title=title)
    for f in facts:
        table.add_row(
            f.valid_from.date().isoformat(),
            f.valid_to.date().isoformat() if f.valid_to else "",
            escape(f.source),
            escape(f.relation),
            escape(f.target),
            escape(f.fact),
        )
    return table


def _run_ingest(
    memory: GraphMemory,
    conversations: list[Conversation],
    scope: Scope | None,
    batch: int,
    context: int,
    quiet: bool,
    concurrency: int = 1,
) -> IngestStats:
    stats = IngestStats()
    total = sum(len(c.messages) for c in conversations)
    started = time.perf_counter()
    columns = [
        TextColumn("[bold]ingest"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("committed, {task.fields[extracted]} extracted"),
        TextColumn("{task.fields[rate]} msg/s"),
        TextColumn("facts {task.fields[facts]}"),
        TimeElapsedColumn(),
    ]
    with Progress(*columns, console=console, disable=quiet) as progress:
        task = progress.add_task("ingest", total=total, rate="0.0", facts=0, extracted=0)

        extracted = 0

        def advance(n: int, s: IngestStats) -> None:
            rate = (s.messages + s.skipped) / max(time.perf_counter() - started, 1e-9)
            progress.update(task, advance=n, rate=f"{rate:.1f}", facts=s.added + s.updated)

        def read(n: int) -> None:
            nonlocal extracted
            extracted += n
            progress.update(task, extracted=extracted)

        windows = (
            window
            for conv in conversations
            for window in windows_of(
                conv.messages,
                user_id=conv.user_id or (scope.user_id if scope else None),
                agent_id=scope.agent_id if scope else None,
                run_id=scope.run_id if scope else None,
                batch_size=batch,
                context_size=context,
            )
        )
        # one pipeline for every conversation: their scopes commit in parallel
        ingest_windows(memory, windows, concurrency=concurrency, on_extracted=read, on_batch=advance, stats=stats)
    stats.seconds = time.perf_counter() - started
    return stats


def _summary(stats: IngestStats) -> None:
    out.print(
        f"messages {stats.messages} (skipped, already stored: {stats.skipped}) | facts added {stats.added}, "
        f"updated {stats.updated}, invalidated {stats.invalidated}, restated {stats.noop}"
        + (f", rejected by the ontology {stats.rejected}" if stats.rejected else "")
        + " | "
        f"LLM calls {stats.llm_calls}, tokens {stats.prompt_tokens}+{stats.completion_tokens} | {stats.seconds:.1f} s"
    )
    for failure in stats.failures:
        console.print(f"[red]failed, will be retried by a re-run:[/] {failure}")


def demo(
    query: Annotated[str, typer.Option(help="The question to answer after ingesting.")] = SAMPLE_QUERY,
    user: Annotated[str, typer.Option("--user", "-u", help="user_id scope for the sample.")] = "demo-maya",
) -> None:
    """The main job: start Neo4j if needed, ingest the bundled sample transcript, answer a query."""
    with clean_errors():
        cfg = settings()
        clock = _Phases()
        with open_memory(cfg, start_managed=True) as memory:
            apply_schema(memory.queries, dim=memory.embedder.dim, model=memory.embedder.model_name)
            clock.lap("Neo4j start and schema")
            if isinstance(memory.embedder, LazyEmbedder):
                memory.embedder.load()
                clock.lap(f"embedder load ({memory.embedder.model_name})")
            conversations = read_transcript(SAMPLE)
            out.print(f"Ingesting {SAMPLE.name} ({len(conversations[0].messages)} turns) into user {user!r}...")
            stats = _run_ingest(memory, conversations, Scope(user_id=user), batch=2, context=10, quiet=False)
            clock.lap("ingest")
            _summary(stats)
            out.print(_facts_table(memory.get_all(user_id=user, include_invalidated=True), f"memory of {user}"))
            hits = memory.search(query, user_id=user, limit=5)
            clock.lap("answer")
            out.print(f"\n[bold]Q:[/] {query}")
            if memory.llm.is_fallback:
                out.print("[bold]A[/] (offline: the most relevant memories, no LLM to phrase an answer):")
            out.print(hits.to_context(max_tokens=400) or "(no memory matched)", markup=False, highlight=False)
            out.print(f"\n[dim]where the time went: {clock}[/]")


class _Phases:
    """Seconds per phase of a command, for the line that says where its time went."""

    def __init__(self) -> None:
        self._last = time.perf_counter()
        self._laps: list[tuple[str, float]] = []

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self._laps.append((name, now - self._last))
        self._last = now

    def __str__(self) -> str:
        return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self._laps)


def ingest(
    files: Annotated[list[Path], typer.Argument(help="Transcript files.", exists=False)],
    user: UserOpt = None,
    agent: AgentOpt = None,
    run: RunOpt = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help=f"One of {', '.join(FORMATS)}.")] = "auto",
    batch: Annotated[int, typer.Option(help="Messages per add (one transaction each).", min=1)] = 2,
    context: Annotated[int, typer.Option(help="Earlier turns shown to the extractor as context.", min=0)] = 10,
    concurrency: Annotated[
        int,
        typer.Option(help="Windows extracted at once (LLM calls in flight); each scope still commits in order.", min=1),
    ] = 1,
    ontology: Annotated[
        str | None,
        typer.Option(help="Ontology file (TOML or YAML) or built-in name; default GRAPHMEM_ONTOLOGY."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Ingest transcripts (JSONL, JSON chat, 'Speaker: text', LOCOMO); resumable, idempotent."""
    with clean_errors():
        cfg = settings()
        if ontology is not None:
            cfg = cfg.model_copy(update={"ontology": ontology})
        conversations = [
            c for path in files for c in read_transcript(path, cast(Format, fmt))
        ]  # parse all before writing
        needs_scope = any(c.user_id is None for c in conversations)
        scope = _scope(user, agent, run) if needs_scope or agent or run else None
        with open_memory(cfg, start_managed=True, announce=not as_json) as memory:
            stats = _run_ingest(memory, conversations, scope, batch, context, quiet=as_json, concurrency=concurrency)
        if as_json:
            print_json(stats.model_dump())
        else:
            _summary(stats)
        if stats.failures:
            raise typer.Exit(5)


def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    user: UserOpt = None,
    agent: AgentOpt = None,
    run: RunOpt = None,
    mode: Annotated[str, typer.Option(help=f"One of {', '.join(MODES)}.")] = DEFAULT_MODE,
    limit: Annotated[int, typer.Option(min=1, max=100, help="Facts to return.")] = 10,
    episodes: Annotated[
        int, typer.Option(min=0, max=100, help="Stored turns to return beside the facts (0: none).")
    ] = DEFAULT_EPISODES,
    hops: Annotated[
        int | None, typer.Option(min=1, max=3, help="Chain length (associative, 3) or expansion depth (entity, 1).")
    ] = None,
    as_of: Annotated[
        datetime | None, typer.Option(help="Only facts valid, and turns said, by this time (ISO 8601).")
    ] = None,
    include_invalidated: Annotated[
        bool, typer.Option("--include-invalidated", help="Include invalidated facts.")
    ] = False,
    entity_types: Annotated[
        list[str] | None, typer.Option("--type", help="Only facts about entities of this type (repeatable).")
    ] = None,
    relations: Annotated[
        list[str] | None, typer.Option("--relation", help="Only facts of this relation (repeatable).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Search a scope's memory: facts, then the stored turns that match."""
    with clean_errors():
        s = _scope(user, agent, run)
        request = SearchRequest.checked(
            "graphmem search",
            query=query,
            **s.params(),
            mode=mode,
            limit=limit,
            episodes=episodes,
            hops=hops,
            as_of=as_of,
            include_invalidated=include_invalidated,
            entity_types=entity_types or None,
            relations=relations or None,
        )
        memory = open_memory(settings(), announce=False)
        try:
            results = memory.search(**request.arguments())
        finally:
            memory.close()
        if as_json:
            print_json(
                {
                    "facts": [h.model_dump(mode="json") for h in results],
                    "episodes": [e.model_dump(mode="json") for e in results.episodes],
                }
            )
            return
        if mode != "episode":
            table = Table("score", "signals", "valid from", "fact", "triplet", title=f"{mode} search: {query}")
            for h in results:
                signals = " ".join(f"{k}#{v.rank}" for k, v in h.signals.items())
                table.add_row(
                    f"{h.score:.3f}",
                    signals,
                    h.fact.valid_from.date().isoformat(),
                    escape(h.fact.fact),
                    escape(h.fact.triplet()),
                )
            out.print(table)
        if results.episodes:
            turns = Table("score", "signals", "when", "speaker", "turn", title="conversation turns")
            for e in results.episodes:
                signals = " ".join(f"{k}#{v.rank}" for k, v in e.signals.items())
                turns.add_row(
                    f"{e.score:.3f}",
                    signals,
                    e.episode.timestamp.date().isoformat(),
                    escape(e.episode.speaker or e.episode.role),
                    escape(e.episode.content),
                )
            out.print(turns)


def facts(
    user: UserOpt = None,
    agent: AgentOpt = None,
    run: RunOpt = None,
    all_: Annotated[bool, typer.Option("--all", help="Include invalidated facts.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List a scope's valid facts (or all, with --all)."""
    with clean_errors():
        s = _scope(user, agent, run)
        with open_memory(settings(), announce=False) as memory:
            found = memory.get_all(user_id=s.user_id, agent_id=s.agent_id, run_id=s.run_id, include_invalidated=all_)
        if as_json:
            print_json([f.model_dump(mode="json") for f in found])
        else:
            out.print(_facts_table(found, f"{len(found)} fact(s)"))


def history(
    id_or_name: Annotated[str, typer.Argument(help="A fact id, an entity id, or an entity name (with a scope).")],
    user: UserOpt = None,
    agent: AgentOpt = None,
    run: RunOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Every version of a fact, or every fact of an entity, invalidated ones included."""
    with clean_errors():
        with open_memory(settings(), announce=False) as memory:
            found = memory.history(id_or_name, user_id=user, agent_id=agent, run_id=run)
        if as_json:
            print_json([f.model_dump(mode="json") for f in found])
        else:
            out.print(_facts_table(found, f"history of {id_or_name}"))


def export(
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write.")],
    user: UserOpt = None,
    agent: AgentOpt = None,
    run: RunOpt = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="graphml or json (node-link).")] = "json",
    all_: Annotated[bool, typer.Option("--all", help="Include invalidated facts.")] = True,
) -> None:
    """Export a scope's graph as GraphML or node-link JSON (networkx)."""
    from .._export import to_networkx, write_graph  # networkx takes ~0.15 s to import: only here

    with clean_errors():
        if fmt not in ("graphml", "json"):
            raise InputError(f"--format {fmt!r}: use graphml or json")
        s = _scope(user, agent, run)
        with open_memory(settings(), announce=False) as memory:
            graph = to_networkx(
                memory.get_all(user_id=s.user_id, agent_id=s.agent_id, run_id=s.run_id, include_invalidated=all_)
            )
        write_graph(graph, output, cast(Literal["graphml", "json"], fmt))  # checked above
        out.print(f"wrote {graph.number_of_nodes()} entities and {graph.number_of_edges()} facts to {output}")


def stats(user: UserOpt = None, agent: AgentOpt = None, run: RunOpt = None, as_json: JsonOpt = False) -> None:
    """Counts of entities, facts and messages (of a scope, or of the whole database)."""
    with clean_errors():
        with open_memory(settings(), announce=False) as memory:
            counts = memory.stats(user_id=user, agent_id=agent, run_id=run).model_dump()
        if as_json:
            print_json(counts)
        else:
            for key, value in counts.items():
                out.print(f"{key:>18}: {value}")


def delete(
    user: UserOpt = None,
    agent: AgentOpt = None,
    run: RunOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete every entity, fact and message of a scope."""
    with clean_errors():
        s = _scope(user, agent, run)
        if not yes and not typer.confirm(f"Delete all memory of {s.params()}?", default=False):
            raise typer.Exit(1)
        with open_memory(settings(), announce=False) as memory:
            removed = memory.delete_all(**s.params())
        out.print(f"deleted {removed} node(s)")
