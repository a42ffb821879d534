"""Token counts of the retrieved context.

The cl100k_base encoding counts them: bpe-openai's (its tables built into the wheel, so it
never reaches the network), else tiktoken's when it is installed and its BPE file can be loaded
(tiktoken downloads it on first use, or reads it from TIKTOKEN_CACHE_DIR). The offline one comes
first: tiktoken arrives with other packages (llama-index-core) and would try a download.
Without either the count is an approximation, ceil(characters / 4), the rule of thumb that
`SearchResults.to_context` also budgets with; the label says which one was used.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

TIKTOKEN_LABEL = "tiktoken cl100k_base"
BPE_OPENAI_LABEL = "cl100k_base (bpe-openai)"
APPROX_LABEL = "approx: ceil(chars/4) (no cl100k_base tokenizer installed)"


@lru_cache(maxsize=1)
def token_counter() -> tuple[Callable[[str], int], str]:
    """(count, label): the counter and how it counts."""
    try:
        import bpe_openai

        offline_encoding = bpe_openai.get_encoding("cl100k_base")
    except Exception:
        pass
    else:
        return (lambda text: len(offline_encoding.encode(text, disallowed_special=()))), BPE_OPENAI_LABEL
    try:
        import tiktoken  # type: ignore[import-not-found, unused-ignore]  # typed where installed

        encoding = tiktoken.get_encoding("cl100k_base")
        encoding.encode("probe")
    except Exception:  # not installed, or the BPE file cannot be fetched
        return approx_tokens, APPROX_LABEL
    return (lambda text: len(encoding.encode(text, disallowed_special=()))), TIKTOKEN_LABEL


def approx_tokens(text: str) -> int:
    return math.ceil(len(text) / 4) if text else 0
