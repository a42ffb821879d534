"""Benchmarks: LOCOMO under the Mem0 paper's protocol (`graphmem eval locomo`).

`run_locomo(memory, LocomoConfig(...), answerer=..., judge=...)` is the harness; answerers and
judges are plain callables (see `_answer`), so tests and other endpoints can plug in their own.
"""

from ._answer import Answerer, Judge, Reply, Verdict, make_client, openai_answerer, openai_judge
from ._locomo import (
    LLM_LABEL,
    RETRIEVAL_ONLY_LABEL,
    LocomoConfig,
    LocomoQuestion,
    LocomoSample,
    load_locomo,
    message_node_id,
    parse_evidence,
    run_locomo,
)
from ._metrics import LOCOMO_NAMES, MEM0_NAMES, aggregate, bleu1, f1_score

__all__ = [
    "LLM_LABEL",
    "LOCOMO_NAMES",
    "MEM0_NAMES",
    "RETRIEVAL_ONLY_LABEL",
    "Answerer",
    "Judge",
    "LocomoConfig",
    "LocomoQuestion",
    "LocomoSample",
    "Reply",
    "Verdict",
    "aggregate",
    "bleu1",
    "f1_score",
    "load_locomo",
    "make_client",
    "message_node_id",
    "openai_answerer",
    "openai_judge",
    "parse_evidence",
    "run_locomo",
]
