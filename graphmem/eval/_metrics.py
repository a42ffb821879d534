"""Scores of the Mem0 paper's LOCOMO protocol, and the retrieval-only scores used without an LLM.

Answer scores (need a generated answer):

* F1 — over *unique* lower-cased tokens after replacing ``. , ! ?`` by spaces (the mem0
  evaluation's ``simple_tokenize`` + token sets): P = |pred ∩ gold| / |pred|,
  R = |pred ∩ gold| / |gold|, F1 = 2PR / (P + R); 0 when either side has no token.
* BLEU-1 — nltk's ``sentence_bleu([ref], hyp, weights=(1, 0, 0, 0),
  smoothing_function=SmoothingFunction().method1)`` on lower-cased text split by nltk's word
  tokenizer (:func:`word_tokenize`), as the mem0 evaluation does.
* J — LLM-as-a-judge: the share of questions the judge labels CORRECT, x 100.

Retrieval-only scores (no LLM needed; never to be read as J):

* answer-recall@k — the share of the gold answer's *content* tokens (F1 tokenisation, unique,
  minus :data:`STOPWORDS`; all tokens when only stopwords remain) found among the tokens (same
  tokenisation) of the retrieved memories of both speakers: each fact's sentence and its
  triplet's words, not the memories' dates (a date would match gold answers of unrelated
  questions of the same month). A question is an *answer hit* when that share reaches the hit
  threshold (default 1.0: every content token is present).
* evidence-recall@k — computed in the harness: a hit when any retrieved fact's
  ``message_ids`` contains the stored id of one of the question's evidence turns.

Aggregation: every score is a mean over questions (x 100), per category and overall; the
overall figure is question-weighted (a mean over all questions, not over category means).
Latencies are summarised by percentiles with linear interpolation (numpy's default).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, cast

# --- categories --------------------------------------------------------------------------

#: LOCOMO's own reading of the category numbers (snap-research/locomo)
LOCOMO_NAMES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop", 5: "adversarial"}
#: the reading that reproduces the Mem0 paper's Table 1 (arXiv 2504.19413)
MEM0_NAMES = {1: "single-hop", 2: "temporal", 3: "multi-hop", 4: "open-domain", 5: "adversarial"}
#: category 5 (adversarial, no gold answer) is left out, as in the Mem0 paper
EXCLUDED_CATEGORIES = frozenset({5})
#: the Mem0 paper's Table 1 column order, as category numbers: single-hop, multi-hop, open-domain, temporal
MEM0_TABLE_ORDER = (1, 3, 4, 2)


def category_label(category: int) -> str:
    """'1 (LOCOMO multi-hop / Mem0 single-hop)'."""
    return f"{category} (LOCOMO {LOCOMO_NAMES.get(category, '?')} / Mem0 {MEM0_NAMES.get(category, '?')})"


# --- F1 ----------------------------------------------------------------------------------


def simple_tokenize(text: object) -> list[str]:
    """Lower-cased whitespace tokens after replacing . , ! ? by spaces (mem0's tokeniser)."""
    return str(text).lower().replace(".", " ").replace(",", " ").replace("!", " ").replace("?", " ").split()


def f1_score(prediction: object, reference: object) -> float:
    """Token-set F1 in [0, 1]; 0 when either text is empty or has no token."""
    pred, gold = (
        set(simple_tokenize(prediction or "")),
        set(simple_tokenize(reference if reference is not None else "")),
    )
    if not pred or not gold:
        return 0.0
    common = len(pred & gold)
    if not common:
        return 0.0
    precision, recall = common / len(pred), common / len(gold)
    return 2 * precision * recall / (precision + recall)


# --- BLEU --------------------------------------------------------------------------------


def word_tokenize(text: str) -> list[str]:
    """nltk's word tokenizer (the Treebank rules of ``nltk.word_tokenize``) without its Punkt
    sentence split, whose model is a separate download; answers are one sentence or less."""
    from nltk.tokenize import NLTKWordTokenizer

    return cast("list[str]", NLTKWordTokenizer().tokenize(text))  # nltk ships no type information


def bleu1(prediction: object, reference: object) -> float:
    """BLEU-1 of the mem0 evaluation: sentence_bleu(weights=(1,0,0,0), method1) on lower-cased
    word tokens; 0 when either text is empty."""
    if not prediction or reference is None or str(reference) == "":
        return 0.0
    hyp = word_tokenize(str(prediction).strip().lower())
    ref = word_tokenize(str(reference).strip().lower())
    if not ref:
        return 0.0
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

    return float(sentence_bleu([ref], hyp, weights=(1, 0, 0, 0), smoothing_function=SmoothingFunction().method1))


# --- retrieval-only ----------------------------------------------------------------------

#: function words left out of answer-recall (a gold "the sunset" needs only "sunset")
STOPWORDS = frozenset(
    """a an the and or but nor of to in on at by for from with without about into onto over under
    as is are was were be been being am do does did done has have had having will would shall
    should can could may might must i me my mine myself you your yours yourself he him his
    himself she her hers herself it its itself we us our ours ourselves they them their theirs
    themselves this that these those there here what which who whom whose when where why how
    not no so than then too very just also some any all each both either neither such own same
    other s t 's""".split()
)


def content_tokens(text: object) -> set[str]:
    """Unique F1 tokens minus stopwords (all tokens if only stopwords are left)."""
    tokens = set(simple_tokenize(text))
    return (tokens - STOPWORDS) or tokens


def answer_recall(gold: object, context: str) -> float | None:
    """Share of the gold answer's content tokens present in `context`; None if gold has no token."""
    wanted = content_tokens(gold)
    if not wanted:
        return None
    present = set(simple_tokenize(context))
    return len(wanted & present) / len(wanted)


# --- aggregation -------------------------------------------------------------------------


def j_score(labels: Iterable[bool]) -> float | None:
    """LLM-as-a-judge accuracy x 100 (None for no label)."""
    values = [1.0 if label else 0.0 for label in labels]
    return 100.0 * sum(values) / len(values) if values else None


def mean(values: Iterable[float | None], scale: float = 1.0) -> float | None:
    """Mean of the values that are not None, times `scale`; None when there is none."""
    present = [float(v) for v in values if v is not None]
    return scale * sum(present) / len(present) if present else None


def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-th percentile (0-100), linear interpolation between closest ranks (numpy's default)."""
    data = sorted(values)
    if not data:
        return None
    position = (len(data) - 1) * q / 100.0
    low, high = math.floor(position), math.ceil(position)
    return data[low] + (data[high] - data[low]) * (position - low)


#: per-question fields averaged per category: name -> (record key, scale)
SCORES: dict[str, tuple[str, float]] = {
    "j": ("judge", 100.0),
    "f1": ("f1", 100.0),
    "bleu1": ("bleu1", 100.0),
    "answer_recall": ("answer_recall", 100.0),
    "answer_hit": ("answer_hit", 100.0),
    "evidence_recall": ("evidence_hit", 100.0),
    "evidence_share": ("evidence_share", 100.0),
}


def _scores(records: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"n": len(records)}
    for name, (key, scale) in SCORES.items():
        values = [r.get(key) for r in records]
        present = [float(v) for v in values if v is not None]
        out[name] = scale * sum(present) / len(present) if present else None
        out[f"{name}_n"] = len(present)
    return out


def aggregate(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Scores per category (by number, with both names) and overall, question-weighted.

    Each record needs `category` and may carry `judge` (bool), `f1`, `bleu1`,
    `answer_recall` (0-1), `answer_hit` and `evidence_hit` (bool); a None is not counted.
    Categories in EXCLUDED_CATEGORIES are dropped.
    """
    kept = [r for r in records if int(r["category"]) not in EXCLUDED_CATEGORIES]
    categories: dict[str, Any] = {}
    for category in sorted({int(r["category"]) for r in kept}):
        subset = [r for r in kept if int(r["category"]) == category]
        categories[str(category)] = {
            "category": category,
            "locomo_name": LOCOMO_NAMES.get(category),
            "mem0_name": MEM0_NAMES.get(category),
            **_scores(subset),
        }
    return {"categories": categories, "overall": _scores(kept)}


def latency_summary(values: Iterable[float]) -> dict[str, float | None]:
    data = list(values)
    return {
        "p50": percentile(data, 50),
        "p95": percentile(data, 95),
        "mean": sum(data) / len(data) if data else None,
        "n": len(data),
    }
