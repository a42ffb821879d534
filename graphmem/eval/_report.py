"""The human-readable results: a Markdown report and a PNG bar chart (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._metrics import LOCOMO_NAMES, MEM0_NAMES, MEM0_TABLE_ORDER

_LLM_COLUMNS = [("j", "J"), ("f1", "F1"), ("bleu1", "B1")]
_RETRIEVAL_COLUMNS = [
    ("answer_recall", "answer-recall@k"),
    ("answer_hit", "answer-hit@k"),
    ("evidence_recall", "evidence-recall@k"),
    ("evidence_share", "evidence turns found"),
]


def _num(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _ms(value: Any) -> str:
    return "-" if value is None else f"{1000 * value:.0f} ms"


def columns(summary: dict[str, Any]) -> list[tuple[str, str]]:
    if summary["mode"] == "retrieval-only":
        return _RETRIEVAL_COLUMNS
    return _LLM_COLUMNS + _RETRIEVAL_COLUMNS


def markdown(summary: dict[str, Any]) -> str:
    cols = columns(summary)
    scores = summary["scores"]
    config = summary["config"]
    retrieval_only = summary["mode"] == "retrieval-only"
    k = config["top_k"]
    lines = [
        "# LOCOMO evaluation of graphmem",
        "",
        f"**Scores: {summary['score_label']}**"
        + (" — not LLM-as-a-judge J; not comparable with J figures." if retrieval_only else ""),
        "",
        f"- protocol: {summary['protocol']}",
        f"- extractor: `{summary['extractor']}`"
        + (" (offline rule-based fallback, low recall)" if summary["extractor_is_fallback"] else "")
        + f"; embedder: `{summary['embedder']}`; search mode: `{config['mode']}`, top-k {k} per speaker scope",
        f"- conversations: {', '.join(summary['selection']['conversations'])}; questions scored: "
        f"{summary['selection']['questions']}"
        + (
            f" (first {summary['selection']['questions_per_conversation']} per conversation)"
            if summary["selection"]["questions_per_conversation"]
            else ""
        )
        + (
            f"; sessions ingested per conversation: first {summary['selection']['sessions_per_conversation']} "
            "(questions limited to those with all evidence in them)"
            if summary["selection"]["sessions_per_conversation"]
            else ""
        ),
    ]
    if not retrieval_only:
        lines.append(f"- answer model: `{config.get('answer_model')}`; judge model: `{config.get('judge_model')}`")
    lines += ["", "## Scores per category (x100)", ""]
    header = ["category", "LOCOMO name", "Mem0-paper name", "n"] + [title for _, title in cols]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join(["---"] * 3 + ["---:"] * (len(header) - 3)) + "|")
    for block in scores["categories"].values():
        row = [str(block["category"]), block["locomo_name"] or "?", block["mem0_name"] or "?", str(block["n"])]
        row += [_num(block.get(key)) for key, _ in cols]
        lines.append("| " + " | ".join(row) + " |")
    overall = scores["overall"]
    lines.append(
        "| **overall** (question-weighted) | | | "
        + str(overall["n"])
        + " | "
        + " | ".join(f"**{_num(overall.get(key))}**" for key, _ in cols)
        + " |"
    )

    # The Mem0 paper's Table 1 layout: single-hop, multi-hop, open-domain, temporal (its names).
    shown = [key for key, _ in cols if key in ("j", "f1", "bleu1")] or [key for key, _ in cols]
    titles = dict(cols)
    lines += ["", "## In the Mem0 paper's Table 1 layout (its category names)", ""]
    head = ["method"]
    for category in MEM0_TABLE_ORDER:
        head += [f"{MEM0_NAMES[category]} (cat {category}) {titles[key]}" for key in shown]
    head.append(f"overall {titles[shown[0]]}")
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|---|" + "|".join(["---:"] * (len(head) - 1)) + "|")
    row = ["graphmem"]
    for category in MEM0_TABLE_ORDER:
        block = scores["categories"].get(str(category), {})
        row += [_num(block.get(key)) for key in shown]
    row.append(_num(overall.get(shown[0])))
    lines.append("| " + " | ".join(row) + " |")

    latency = summary["latency_seconds"]
    tokens = summary["context_tokens"]
    ingest = summary["ingestion"]
    lines += [
        "",
        "## Latency and cost",
        "",
        "| measure | p50 | p95 | mean |",
        "|---|---:|---:|---:|",
        f"| search latency (both scopes) | {_ms(latency['search']['p50'])} | {_ms(latency['search']['p95'])} "
        f"| {_ms(latency['search']['mean'])} |",
        f"| total latency ({'search only, no LLM' if retrieval_only else 'search + answer'}) | "
        f"{_ms(latency['total']['p50'])} | {_ms(latency['total']['p95'])} | {_ms(latency['total']['mean'])} |",
    ]
    if "answer" in latency:
        lines.append(
            f"| answer generation | {_ms(latency['answer']['p50'])} | {_ms(latency['answer']['p95'])} "
            f"| {_ms(latency['answer']['mean'])} |"
        )
    lines.append(
        f"| retrieved-context tokens per query ({tokens['tokenizer']}) | {_num(tokens['p50'], 0)} | "
        f"{_num(tokens['p95'], 0)} | {_num(tokens['mean'], 0)} |"
    )
    lines += [
        "",
        f"- ingestion: {ingest['messages']} message(s) ingested into {len(ingest['per_scope'])} scope(s) "
        f"({ingest['skipped']} already stored on the last run), {ingest['added']} fact(s) added, "
        f"{ingest['llm_calls']} LLM call(s), {ingest['prompt_tokens']} prompt + {ingest['completion_tokens']} "
        f"completion tokens, {ingest['seconds']:.1f} s (summed over the runs that ingested)",
    ]
    if ingest["failures"]:
        lines.append(f"- ingestion failures (missing from memory; a re-run retries them): {len(ingest['failures'])}")
    for name in ("answering", "judging"):
        if name in summary:
            u = summary[name]
            lines.append(
                f"- {name}: model `{u['model']}`, {u['llm_calls']} LLM call(s), {u['prompt_tokens']} prompt + "
                f"{u['completion_tokens']} completion tokens"
            )
    lines += ["", "## Definitions", ""]
    lines += [f"- **{name}**: {text}" for name, text in summary["definitions"].items()]
    lines.append("")
    return "\n".join(lines)


def plot(summary: dict[str, Any], path: Path) -> bool:
    """Grouped bars per category (both names) and overall; False when matplotlib is missing
    (it is a dev dependency of graphmem, not a runtime one)."""
    try:
        import matplotlib
    except ImportError:
        return False

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = columns(summary)
    blocks = list(summary["scores"]["categories"].values()) + [summary["scores"]["overall"]]
    labels = [
        f"{b['category']}\nLOCOMO {LOCOMO_NAMES.get(b['category'])}\nMem0 {MEM0_NAMES.get(b['category'])}"
        if "category" in b
        else "overall\n(question-\nweighted)"
        for b in blocks
    ]
    width = 0.8 / len(cols)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.8 * len(blocks)), 4.8), dpi=110)
    for i, (key, title) in enumerate(cols):
        values = [b.get(key) or 0.0 for b in blocks]
        xs = [x + (i - (len(cols) - 1) / 2) * width for x in range(len(blocks))]
        bars = ax.bar(xs, values, width, label=title)
        ax.bar_label(bars, labels=[f"{v:.0f}" for v in values], fontsize=7, padding=1)
    ax.set_xticks(range(len(blocks)), labels, fontsize=8)
    ax.set_ylim(0, 105)
    ax.set_ylabel("score (x100)")
    n = summary["scores"]["overall"]["n"]
    ax.set_title(
        f"LOCOMO, graphmem ({summary['extractor']} extractor), {n} questions\n{summary['score_label']}", fontsize=9
    )
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True
