"""The LOCOMO benchmark under the Mem0 paper's protocol (arXiv 2504.19413, Table 1).

Ingestion: each speaker's memory is its own user scope (``<prefix><sample_id>:<speaker>``);
every turn of the conversation, of either speaker, goes into both, as ``Name: text`` with the
session date as timestamp (`read_locomo`), in windows of ``batch`` turns (`ingest_messages`);
message ids ``<sample_id>:<dia_id>`` make it resumable.

Per question (category 5, adversarial, is left out): search both speakers' scopes for the
question (top-k each), time the two searches, render the hits as dated lines per speaker, then
either

* answer from them with an LLM and judge the answer against the gold one (J), and score it
  with F1 and BLEU-1; or
* without an LLM, score the retrieval only: answer-recall@k and evidence-recall@k
  (see `_metrics`). These are *not* J and are never labelled so.

Every question's result is appended to ``questions.jsonl`` in the output folder as soon as it
is known, and a re-run skips the questions already there, so a killed run resumes.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from pydantic import BaseModel, Field

from .._errors import InputError
from .._memory import GraphMemory
from .._models import Message, Scope
from ..search.recipes import DEFAULT_MODE, Mode
from ..search.results import SearchResults
from ..store.ids import message_node_id as stored_id
from ..write.ingest import IngestStats, ingest_messages
from ..write.transcripts import read_locomo
from . import _metrics
from ._answer import Answerer, Judge, as_reply, as_verdict
from ._tokens import token_counter

RETRIEVAL_ONLY_LABEL = "retrieval-only (no LLM): answer-recall@k / evidence-recall@k"
LLM_LABEL = "LLM answers: J (LLM-as-a-judge), F1, BLEU-1"
QUESTIONS_FILE = "questions.jsonl"
INGEST_FILE = "ingest.json"
RUN_FILE = "run.json"

_EVIDENCE = re.compile(r"D:?(\d+):(\d+)")
_DIA = re.compile(r"^D(\d+):(\d+)$")


class LocomoQuestion(BaseModel):
    index: int  # position in the sample's qa list (the resume key)
    question: str
    answer: str
    category: int
    evidence: list[str] = Field(default_factory=list)  # normalised dia_ids present in the conversation
    evidence_dropped: int = 0  # evidence entries naming no turn of the conversation


class LocomoSample(BaseModel):
    sample_id: str
    speakers: tuple[str, str]
    messages: list[Message]
    questions: list[LocomoQuestion]

    def sessions(self) -> list[int]:
        return sorted({session_of(m.id or "") for m in self.messages})


class LocomoConfig(BaseModel):
    path: Path
    out: Path = Path("eval-results")
    conversations: int | None = Field(default=None, ge=1)
    questions: int | None = Field(default=None, ge=1)
    sessions: int | None = Field(default=None, ge=1)
    top_k: int = Field(default=30, ge=1)
    episodes: int = Field(default=20, ge=0)  # stored turns retrieved per speaker scope, beside the facts
    mode: str = DEFAULT_MODE
    batch: int = Field(default=2, ge=1)
    context: int = Field(default=10, ge=0)
    retrieval_only: bool = False
    answer_model: str | None = None
    judge_model: str | None = None
    scope_prefix: str = ""
    hit_threshold: float = Field(default=1.0, gt=0.0, le=1.0)
    cleanup: bool = False
    fresh: bool = False


Progress = Callable[[str, int, int], None]


# --- the data ----------------------------------------------------------------------------


def session_of(message_id: str) -> int:
    """Session number of a LOCOMO message id '<sample_id>:D<session>:<turn>'."""
    parts = message_id.rsplit(":", 2)
    match = _DIA.match(f"{parts[1]}:{parts[2]}") if len(parts) == 3 else None
    if not match:
        raise InputError(f"not a LOCOMO message id: {message_id!r} (expected '<sample_id>:D<session>:<turn>')")
    return int(match.group(1))


def parse_evidence(items: list[Any]) -> list[str]:
    """Evidence entries -> dia_ids 'D<session>:<turn>'.

    The data has a few malformed entries: several ids in one string ('D8:6; D9:17',
    'D9:1 D4:4'), a stray colon ('D:11:26'), a leading zero ('D30:05'), a bare 'D'.
    Each id found is normalised; entries with none are dropped.
    """
    found: list[str] = []
    for item in items:
        for session, turn in _EVIDENCE.findall(str(item)):
            dia = f"D{int(session)}:{int(turn)}"
            if dia not in found:
                found.append(dia)
    return found


def load_locomo(path: Path) -> list[LocomoSample]:
    """Samples with their messages (as `read_locomo` gives them) and their questions."""
    by_scope = {c.user_id: c.messages for c in read_locomo(path)}  # validates the layout, builds the messages
    data = json.loads(path.read_bytes().decode("utf-8"))
    samples = []
    for raw in data:
        conv, sample_id = raw["conversation"], str(raw["sample_id"])
        speakers = (conv["speaker_a"], conv["speaker_b"])
        messages = by_scope[f"{sample_id}:{speakers[0]}"]
        dia_ids = {m.id.removeprefix(f"{sample_id}:") for m in messages if m.id}
        questions = []
        for index, qa in enumerate(raw.get("qa", [])):
            raw_evidence = qa.get("evidence", [])
            found = parse_evidence(raw_evidence)
            kept = [e for e in found if e in dia_ids]
            unparsed = sum(1 for item in raw_evidence if not _EVIDENCE.search(str(item)))
            questions.append(
                LocomoQuestion(
                    index=index,
                    question=str(qa["question"]),
                    category=int(qa["category"]),
                    answer=str(qa.get("answer", qa.get("adversarial_answer", ""))),
                    evidence=kept,
                    evidence_dropped=len(found) - len(kept) + unparsed,
                )
            )
        samples.append(LocomoSample(sample_id=sample_id, speakers=speakers, messages=messages, questions=questions))
    return samples


def select_messages(sample: LocomoSample, sessions: int | None) -> list[Message]:
    if sessions is None:
        return sample.messages
    keep = set(sample.sessions()[:sessions])
    return [m for m in sample.messages if session_of(m.id or "") in keep]


def select_questions(sample: LocomoSample, sessions: int | None, limit: int | None) -> list[LocomoQuestion]:
    """The first `limit` scored questions (category 5 left out). With a session limit, only
    questions whose evidence lies wholly in the ingested sessions (and that have evidence)."""
    chosen = [q for q in sample.questions if q.category not in _metrics.EXCLUDED_CATEGORIES]
    if sessions is not None:
        keep = set(sample.sessions()[:sessions])
        # evidence ids are normalised 'D<session>:<turn>' by parse_evidence: they match _DIA
        chosen = [
            q
            for q in chosen
            if q.evidence and all(int(cast(re.Match[str], _DIA.match(e)).group(1)) in keep for e in q.evidence)
        ]
    return chosen[:limit] if limit else chosen


def scope_id(prefix: str, sample: LocomoSample, speaker: str) -> str:
    return f"{prefix}{sample.sample_id}:{speaker}"


def message_node_id(user_id: str, external_id: str) -> str:
    """The stored id of a message: graphmem hashes the scope key and the caller's id."""
    return stored_id(Scope(user_id=user_id), Message(content="-", id=external_id))


def recall_text(found: Iterable[SearchResults]) -> str:
    """What answer-recall reads: each retrieved fact's sentence and its triplet's words, and
    each retrieved turn's text.

    The dates of the memories are left out on purpose: a date matches gold answers of
    unrelated questions of the same month ("June 2023") and would inflate the score.
    """
    parts = []
    for results in found:
        parts += [f"{h.fact.fact} {h.fact.source} {h.fact.relation.replace('_', ' ')} {h.fact.target}" for h in results]
        parts += [e.episode.content for e in results.episodes]
    return "\n".join(parts)


# --- the run -----------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text()) if path.is_file() else None


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")
    tmp.replace(path)


def read_records(path: Path) -> dict[str, dict[str, Any]]:
    """Per-question results by key; a line cut short by a kill is ignored."""
    records: dict[str, dict[str, Any]] = {}
    if not path.is_file():
        return records
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and "key" in record:
            records[record["key"]] = record
    return records


_QUESTION_KEYS = (
    "top_k",
    "episodes",
    "mode",
    "retrieval_only",
    "sessions",
    "answer_model",
    "judge_model",
    "hit_threshold",
    "dataset_sha256",
)
_INGEST_KEYS = ("extractor", "batch", "context", "scope_prefix")


def _check_run(out: Path, run: dict[str, Any], fresh: bool) -> None:
    previous = _read_json(out / RUN_FILE)
    if not previous:
        return
    ingest_diff = [k for k in _INGEST_KEYS if previous.get(k) != run.get(k)]
    if ingest_diff:
        changes = ", ".join(f"{k} {previous.get(k)!r} -> {run.get(k)!r}" for k in ingest_diff)
        raise InputError(
            f"{out} holds a run ingested differently ({changes}): its scopes hold that memory. Use another --out "
            "and --scope-prefix, or delete the scopes first (re-run the old command with --cleanup)"
        )
    question_diff = [k for k in _QUESTION_KEYS if previous.get(k) != run.get(k)]
    if question_diff and not fresh:
        changes = ", ".join(f"{k} {previous.get(k)!r} -> {run.get(k)!r}" for k in question_diff)
        raise InputError(
            f"{out} holds results of another configuration ({changes}): use another --out, or --fresh "
            "to discard its question results"
        )


def run_locomo(
    memory: GraphMemory,
    config: LocomoConfig,
    *,
    answerer: Answerer | None = None,
    judge: Judge | None = None,
    progress: Progress | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Ingest, ask, score and write the results; returns the summary written to results.json.

    With `config.retrieval_only` no answerer or judge is used; otherwise both are required.
    """
    if not config.retrieval_only and (answerer is None or judge is None):
        raise InputError("an LLM evaluation needs an answerer and a judge (or use retrieval_only)")
    say = log or (lambda _msg: None)
    step = progress or (lambda _stage, _n, _total: None)
    samples = load_locomo(config.path)[: config.conversations]
    out = config.out
    out.mkdir(parents=True, exist_ok=True)
    run = {
        **config.model_dump(mode="json", exclude={"path", "out", "conversations", "questions", "cleanup", "fresh"}),
        "dataset": str(config.path),
        "dataset_sha256": _sha256(config.path),
        "extractor": memory.llm.name,
        "embedder": memory.embedder.model_name,
    }
    if config.retrieval_only:
        run["answer_model"] = run["judge_model"] = None
    _check_run(out, run, config.fresh)
    if config.fresh:
        for name in (QUESTIONS_FILE, "results.json", "results.md", "results.png"):
            (out / name).unlink(missing_ok=True)
    _write_json(out / RUN_FILE, run)

    ingest = _ingest(memory, samples, config, step, say)

    memory.embedder.embed_one("warm-up")  # a first call pays for lazy model set-up: keep it out of latency
    count_tokens, tokenizer = token_counter()
    done = read_records(out / QUESTIONS_FILE)
    chosen = [(s, q) for s in samples for q in select_questions(s, config.sessions, config.questions)]
    say(
        f"{len(chosen)} question(s) from {len(samples)} conversation(s); {sum(_key(s, q) in done for s, q in chosen)} "
        "already scored in this folder"
    )
    with (out / QUESTIONS_FILE).open("a", encoding="utf-8") as sink:
        for number, (sample, question) in enumerate(chosen, start=1):
            key = _key(sample, question)
            if key not in done:
                record = _ask(memory, sample, question, config, answerer, judge, count_tokens)
                sink.write(json.dumps(record, ensure_ascii=False) + "\n")
                sink.flush()
                done[key] = record
            step("questions", number, len(chosen))
    records = [done[_key(s, q)] for s, q in chosen]

    summary = summarize(memory, samples, config, run, records, ingest, tokenizer)
    write_results(out, summary, say)
    if config.cleanup:
        removed = 0
        for sample in samples:
            for speaker in sample.speakers:
                removed += memory.delete_all(user_id=scope_id(config.scope_prefix, sample, speaker))
        summary["cleanup"] = {"deleted_nodes": removed}
        _write_json(out / "results.json", summary)
        say(f"deleted the {2 * len(samples)} evaluation scope(s) ({removed} nodes)")
    return summary


def _key(sample: LocomoSample, question: LocomoQuestion) -> str:
    return f"{sample.sample_id}#{question.index}"


_SUMMED = (
    "messages",
    "added",
    "updated",
    "invalidated",
    "noop",
    "llm_calls",
    "prompt_tokens",
    "completion_tokens",
    "neo4j_round_trips",
    "seconds",
)


def _ingest(
    memory: GraphMemory, samples: list[LocomoSample], config: LocomoConfig, step: Progress, say: Callable[[str], None]
) -> dict[str, Any]:
    """Ingest both speaker scopes of each sample. Per-scope stats are saved in ingest.json after
    every batch and kept across runs: a run that finds the scope holding messages adds what it
    ingested to the saved stats; a run that finds it empty starts them afresh."""
    path = config.out / INGEST_FILE
    saved: dict[str, Any] = _read_json(path) or {}
    jobs = [(s, speaker, select_messages(s, config.sessions)) for s in samples for speaker in s.speakers]
    total = sum(len(m) for _, _, m in jobs)
    finished = 0
    for sample, speaker, messages in jobs:
        user_id = scope_id(config.scope_prefix, sample, speaker)
        stored = memory.stats(user_id=user_id).messages
        before = saved.get(user_id) if stored else None

        def save(
            stats: IngestStats,
            before: dict[str, Any] | None = before,
            user_id: str = user_id,
            selection: int = len(messages),
        ) -> None:
            merged = stats.model_dump()
            if before is not None:
                merged.update({field: before.get(field, 0) + getattr(stats, field) for field in _SUMMED})
            merged["messages_in_selection"] = selection
            saved[user_id] = merged
            _write_json(path, saved)

        def advance(_n: int, stats: IngestStats, base: int = finished) -> None:
            save(stats)
            step("ingest", base + stats.messages + stats.skipped + len(stats.failures) * config.batch, total)

        stats = ingest_messages(
            memory, messages, user_id=user_id, batch_size=config.batch, context_size=config.context, on_batch=advance
        )
        save(stats)
        finished += len(messages)
        step("ingest", finished, total)
        if stats.failures:
            say(f"[{user_id}] {len(stats.failures)} batch(es) failed and are missing; a re-run retries them")
    selected = {scope_id(config.scope_prefix, s, sp) for s, sp, _ in jobs}
    return {k: v for k, v in saved.items() if k in selected}


def _render(hits: dict[str, SearchResults]) -> dict[str, str]:
    """Each speaker's facts and turns as dated lines. Both speaker scopes hold every turn of the
    conversation, so a turn both searches found is shown once, under the first speaker."""
    shown: set[str] = set()
    rendered = {}
    for speaker, found in hits.items():
        turns = [e for e in found.episodes if (e.episode.external_id or e.episode.id) not in shown]
        shown.update(e.episode.external_id or e.episode.id for e in turns)
        rendered[speaker] = SearchResults(found, turns).to_context(max_tokens=10**9)
    return rendered


def _ask(
    memory: GraphMemory,
    sample: LocomoSample,
    question: LocomoQuestion,
    config: LocomoConfig,
    answerer: Answerer | None,
    judge: Judge | None,
    count_tokens: Callable[[str], int],
) -> dict[str, Any]:
    hits: dict[str, SearchResults] = {}
    search_seconds: dict[str, float] = {}
    for speaker in sample.speakers:
        started = time.perf_counter()
        hits[speaker] = memory.search(
            question.question,
            user_id=scope_id(config.scope_prefix, sample, speaker),
            mode=cast(Mode, config.mode),  # checked by search(): an unknown mode is an InputError
            limit=config.top_k,
            episodes=config.episodes,
        )
        search_seconds[speaker] = time.perf_counter() - started
    memories = _render(hits)
    context = "\n".join(memories.values())
    search_latency = sum(search_seconds.values())

    # retrieval-only scores (computed in both modes)
    recall = _metrics.answer_recall(question.answer, recall_text(hits.values()))
    cited: set[str] = set()
    for speaker, found in hits.items():
        user_id = scope_id(config.scope_prefix, sample, speaker)
        wanted = {message_node_id(user_id, f"{sample.sample_id}:{dia}"): dia for dia in question.evidence}
        for hit in found:
            cited.update(wanted[m] for m in hit.fact.message_ids if m in wanted)
        # a retrieved turn that is an evidence turn counts as well (its id is '<sample_id>:<dia_id>')
        said = {f"{sample.sample_id}:{dia}": dia for dia in question.evidence}
        cited.update(said[e.episode.external_id] for e in found.episodes if e.episode.external_id in said)
    record: dict[str, Any] = {
        "key": _key(sample, question),
        "sample_id": sample.sample_id,
        "qa_index": question.index,
        "category": question.category,
        "question": question.question,
        "answer": question.answer,
        "evidence": question.evidence,
        "mode": "retrieval-only" if config.retrieval_only else "llm",
        "hits": {speaker: len(found) for speaker, found in hits.items()},
        "episode_hits": {speaker: len(found.episodes) for speaker, found in hits.items()},
        "search_seconds": search_seconds,
        "search_latency": search_latency,
        "context_tokens": count_tokens(context),
        "context_fact_tokens": count_tokens(
            "\n".join(SearchResults(found).to_context(10**9) for found in hits.values())
        ),
        "answer_recall": recall,
        "answer_hit": None if recall is None else recall >= config.hit_threshold - 1e-9,
        "evidence_cited": sorted(cited),
        "evidence_hit": bool(cited) if question.evidence else None,
        "evidence_share": len(cited) / len(set(question.evidence)) if question.evidence else None,
        "context": memories,
    }
    if config.retrieval_only:
        record["total_latency"] = search_latency
        return record
    assert answerer is not None and judge is not None
    started = time.perf_counter()
    reply = as_reply(answerer(question.question, memories))
    answer_seconds = time.perf_counter() - started
    started = time.perf_counter()
    verdict = as_verdict(judge(question.question, question.answer, reply.text))
    judge_seconds = time.perf_counter() - started
    record.update(
        response=reply.text,
        judge=verdict.correct,
        judge_label=verdict.label,
        f1=_metrics.f1_score(reply.text, question.answer),
        bleu1=_metrics.bleu1(reply.text, question.answer),
        answer_seconds=answer_seconds,
        judge_seconds=judge_seconds,
        total_latency=search_latency + answer_seconds,
        answer_usage={
            "llm_calls": reply.llm_calls,
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
        },
        judge_usage={
            "llm_calls": verdict.llm_calls,
            "prompt_tokens": verdict.prompt_tokens,
            "completion_tokens": verdict.completion_tokens,
        },
    )
    return record


# --- the summary -------------------------------------------------------------------------

DEFINITIONS = {
    "J": "LLM-as-a-judge: share of questions whose generated answer the judge labels CORRECT (generous on "
    "paraphrase and date formats), x100",
    "F1": "token-set F1 between generated and gold answer: lower-cased, '. , ! ?' replaced by spaces, unique "
    "tokens, x100",
    "BLEU-1": "nltk sentence_bleu with weights (1,0,0,0) and SmoothingFunction().method1, on lower-cased "
    "tokens of nltk's word tokenizer, x100",
    "answer-recall@k": "share of the gold answer's content tokens (F1 tokenisation, unique, minus stopwords) "
    "present in the retrieved memories of both speakers (fact sentences and triplet words; the "
    "memories' dates are not matched), mean x100",
    "answer-hit@k": "share of questions whose answer-recall reaches the hit threshold (1.0 = every content token "
    "present), x100",
    "evidence-recall@k": "share of questions with evidence for which at least one retrieved fact was derived from "
    "an add whose turns include an evidence turn (fact.message_ids holds the stored id of "
    "'<sample_id>:<dia_id>'), x100; granularity: one add = --batch turns",
    "search latency": "wall time of the two scope searches of one question (sequential), seconds",
    "total latency": "search latency + answer generation time (LLM mode); = search latency in retrieval-only mode",
    "overall": "question-weighted mean over all scored questions (categories 1-4)",
    "categories": "by number; LOCOMO names 1 multi-hop, 2 temporal, 3 open-domain, 4 single-hop; Mem0 paper names "
    "1 single-hop, 2 temporal, 3 multi-hop, 4 open-domain; 5 (adversarial) excluded",
}


def _sum_usage(records: list[dict[str, Any]], field: str) -> dict[str, int]:
    total = {"llm_calls": 0, "prompt_tokens": 0, "completion_tokens": 0}
    for record in records:
        for key in total:
            total[key] += int((record.get(field) or {}).get(key, 0))
    return total


def summarize(
    memory: GraphMemory,
    samples: list[LocomoSample],
    config: LocomoConfig,
    run: dict[str, Any],
    records: list[dict[str, Any]],
    ingest: dict[str, Any],
    tokenizer: str,
) -> dict[str, Any]:
    retrieval_only = config.retrieval_only
    scores = _metrics.aggregate(records)
    if retrieval_only:  # never show an empty J/F1/BLEU-1 that could be read as a score
        for block in [scores["overall"], *scores["categories"].values()]:
            for name in ("j", "f1", "bleu1"):
                block.pop(name, None)
                block.pop(f"{name}_n", None)
    tokens = [r["context_tokens"] for r in records]
    ingest_total: dict[str, Any] = {
        key: sum(s.get(key, 0) for s in ingest.values())
        for key in (
            "messages",
            "skipped",
            "added",
            "updated",
            "invalidated",
            "noop",
            "llm_calls",
            "prompt_tokens",
            "completion_tokens",
            "neo4j_round_trips",
            "seconds",
        )
    }
    ingest_total["failures"] = [f"{scope}: {f}" for scope, s in ingest.items() for f in s.get("failures", [])]
    memory_sizes = {scope: memory.stats(user_id=scope).model_dump() for scope in sorted(ingest)}
    summary: dict[str, Any] = {
        "benchmark": "LOCOMO (locomo10)",
        "protocol": "Mem0 paper (arXiv 2504.19413): one user scope per speaker, both searched per question, "
        f"top-{config.top_k} facts and {config.episodes} turns each, category 5 excluded",
        "mode": "retrieval-only" if retrieval_only else "llm",
        "score_label": RETRIEVAL_ONLY_LABEL if retrieval_only else LLM_LABEL,
        "extractor": memory.llm.name,
        "extractor_is_fallback": memory.llm.is_fallback,
        "embedder": memory.embedder.model_name,
        "config": run,
        "selection": {
            "conversations": [s.sample_id for s in samples],
            "questions": len(records),
            "questions_per_conversation": config.questions,
            "sessions_per_conversation": config.sessions,
        },
        "scores": scores,
        "latency_seconds": {
            "search": _metrics.latency_summary(r["search_latency"] for r in records),
            "total": _metrics.latency_summary(r["total_latency"] for r in records),
        },
        "context_tokens": {
            "tokenizer": tokenizer,
            "mean": sum(tokens) / len(tokens) if tokens else None,
            "facts_mean": _metrics.mean(r.get("context_fact_tokens") for r in records),
            "episodes_per_scope": config.episodes,
            "p50": _metrics.percentile(tokens, 50),
            "p95": _metrics.percentile(tokens, 95),
        },
        "ingestion": {**ingest_total, "per_scope": ingest},
        "memory": memory_sizes,
        "definitions": DEFINITIONS,
        "finished_at": datetime.now().astimezone().isoformat(timespec="seconds"),
    }
    if not retrieval_only:
        summary["latency_seconds"]["answer"] = _metrics.latency_summary(r["answer_seconds"] for r in records)
        summary["answering"] = {"model": run.get("answer_model"), **_sum_usage(records, "answer_usage")}
        summary["judging"] = {"model": run.get("judge_model"), **_sum_usage(records, "judge_usage")}
    return summary


def write_results(out: Path, summary: dict[str, Any], say: Callable[[str], None]) -> None:
    from ._report import markdown, plot

    _write_json(out / "results.json", summary)
    (out / "results.md").write_text(markdown(summary))
    if not plot(summary, out / "results.png"):
        say("matplotlib is not installed: no results.png (pip install matplotlib)")
