"""`graphmem eval`: benchmarks (LOCOMO under the Mem0 paper's protocol)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from .._errors import ConfigError, InputError
from ..search.recipes import DEFAULT_MODE, MODES
from ._common import clean_errors, console, open_memory, out, print_json, settings

eval_app = typer.Typer(
    name="eval",
    help="Benchmarks: `graphmem eval locomo FILE` (the Mem0 paper's LOCOMO protocol).",
    no_args_is_help=True,
)


@eval_app.command("locomo")
def locomo(
    path: Annotated[Path, typer.Argument(help="locomo10.json (the LOCOMO data file).")],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for results.json/.md/.png and questions.jsonl.")
    ] = Path("eval-results"),
    conversations: Annotated[int | None, typer.Option(min=1, help="Only the first N conversations.")] = None,
    questions: Annotated[
        int | None, typer.Option(min=1, help="Only the first N scored questions per conversation.")
    ] = None,
    sessions: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Ingest only the first N sessions of each conversation (and ask only questions "
            "whose evidence lies in them).",
        ),
    ] = None,
    top_k: Annotated[int, typer.Option("--top-k", min=1, help="Memories retrieved per speaker scope.")] = 30,
    episodes: Annotated[
        int, typer.Option(min=0, help="Stored turns retrieved per speaker scope, beside the facts.")
    ] = 20,
    mode: Annotated[str, typer.Option(help=f"Search mode: {', '.join(MODES)}.")] = DEFAULT_MODE,
    batch: Annotated[int, typer.Option(min=1, help="Turns per add while ingesting.")] = 2,
    context: Annotated[int, typer.Option(min=0, help="Earlier turns shown to the extractor.")] = 10,
    retrieval_only: Annotated[
        bool,
        typer.Option("--retrieval-only", help="Score retrieval only, no LLM (automatic with the offline provider)."),
    ] = False,
    answer_model: Annotated[str | None, typer.Option(help="Answering model (default GRAPHMEM_LLM_MODEL).")] = None,
    judge_model: Annotated[str | None, typer.Option(help="Judge model (default GRAPHMEM_LLM_MODEL).")] = None,
    scope_prefix: Annotated[str, typer.Option(help="Prefix of the speaker scopes '<sample_id>:<speaker>'.")] = "",
    hit_threshold: Annotated[
        float, typer.Option(min=0.01, max=1.0, help="Answer-recall share that counts as an answer hit.")
    ] = 1.0,
    cleanup: Annotated[bool, typer.Option("--cleanup", help="Delete the evaluation scopes at the end.")] = False,
    fresh: Annotated[bool, typer.Option("--fresh", help="Discard the question results already in --out.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print results.json to stdout.")] = False,
) -> None:
    """LOCOMO as in the Mem0 paper: one scope per speaker, both searched, answered and judged (J, F1, BLEU-1).

    Without an LLM endpoint it scores retrieval only (answer-recall@k, evidence-recall@k), never J.
    Resumable: ingestion skips stored turns, and questions already in --out/questions.jsonl are skipped.
    """
    from ..eval import LocomoConfig, make_client, openai_answerer, openai_judge, run_locomo

    with clean_errors():
        require_eval_extra()
        if not path.is_file():
            raise InputError(f"{path}: no such file (give the path of locomo10.json)")
        if mode not in MODES:
            raise InputError(f"--mode {mode!r}: use one of {', '.join(MODES)}")
        cfg = settings()
        offline = cfg.resolved_llm_provider == "offline"
        answerer = judge = None
        if not (retrieval_only or offline):
            client = make_client(cfg)
            answer_model = answer_model or cfg.llm_model
            judge_model = judge_model or cfg.llm_model
            answerer, judge = openai_answerer(client, answer_model), openai_judge(client, judge_model)
        config = LocomoConfig(
            path=path,
            out=out_dir,
            conversations=conversations,
            questions=questions,
            sessions=sessions,
            top_k=top_k,
            episodes=episodes,
            mode=mode,
            batch=batch,
            context=context,
            retrieval_only=retrieval_only or offline,
            answer_model=answer_model,
            judge_model=judge_model,
            scope_prefix=scope_prefix,
            hit_threshold=hit_threshold,
            cleanup=cleanup,
            fresh=fresh,
        )
        memory = open_memory(cfg, start_managed=True, announce=not as_json, search_cache=True)
        if config.retrieval_only and not as_json:
            console.print(
                "[yellow]No LLM answering: scoring retrieval only (answer-recall@k / evidence-recall@k), not J.[/]"
            )
        started = time.perf_counter()
        columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
        with Progress(*columns, console=console, disable=as_json) as progress:
            tasks: dict[str, TaskID] = {}

            def step(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = progress.add_task(stage, total=total)
                progress.update(tasks[stage], completed=done, total=total)

            def log(message: str) -> None:
                if not as_json:
                    progress.console.print(message, markup=False, highlight=False)

            try:
                summary = run_locomo(memory, config, answerer=answerer, judge=judge, progress=step, log=log)
            finally:
                memory.close()
        if as_json:
            print_json(summary)
        else:
            _print_summary(summary, out_dir, time.perf_counter() - started)
        if summary["ingestion"]["failures"]:
            raise typer.Exit(5)


def _print_summary(summary: dict[str, Any], out_dir: Path, seconds: float) -> None:
    from ..eval._report import columns

    cols = columns(summary)
    short = {
        "answer_recall": "ans-rec@k",
        "answer_hit": "ans-hit@k",
        "evidence_recall": "evid-rec@k",
        "evidence_share": "evid-turns",
    }
    table = Table(
        "cat",
        "LOCOMO",
        "Mem0 paper",
        "n",
        *[short.get(key, title) for key, title in cols],
        title=f"LOCOMO: {summary['score_label']}",
    )
    for block in summary["scores"]["categories"].values():
        table.add_row(
            str(block["category"]),
            block["locomo_name"],
            block["mem0_name"],
            str(block["n"]),
            *[_fmt(block.get(key)) for key, _ in cols],
        )
    overall = summary["scores"]["overall"]
    table.add_row("overall", "", "", str(overall["n"]), *[_fmt(overall.get(key)) for key, _ in cols])
    out.print(table)
    search, total = summary["latency_seconds"]["search"], summary["latency_seconds"]["total"]
    tokens, ingest = summary["context_tokens"], summary["ingestion"]
    out.print(
        f"search latency p50 {_fmt_ms(search['p50'])}, p95 {_fmt_ms(search['p95'])} | total p50 {_fmt_ms(total['p50'])}"
        f", p95 {_fmt_ms(total['p95'])} | context tokens mean {_fmt(tokens['mean'], 0)}"
        f" (facts {_fmt(tokens.get('facts_mean'), 0)}, {tokens['tokenizer']})\n"
        f"ingestion: {ingest['messages']} message(s), {ingest['llm_calls']} LLM call(s), "
        f"{ingest['prompt_tokens']}+{ingest['completion_tokens']} tokens | {seconds:.1f} s this run",
        highlight=False,
        markup=False,
    )
    out.print(f"wrote {out_dir / 'results.json'}, results.md, results.png, questions.jsonl", highlight=False)


def _fmt(value: object, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _fmt_ms(value: float | None) -> str:
    return "-" if value is None else f"{1000 * value:.0f} ms"


def require_eval_extra() -> None:
    """The evaluation's metrics need packages the default install leaves out: say so before
    minutes of ingestion, not at the first BLEU score."""
    import importlib.util

    missing = [name for name in ("nltk", "bpe_openai") if importlib.util.find_spec(name) is None]
    if missing:
        raise ConfigError(
            f'graphmem eval needs {" and ".join(missing)}: install the extra with pip install "graphmem[eval]"'
        )
