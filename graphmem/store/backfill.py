"""Makes every stored turn searchable as this version searches it, batch by batch: a turn
written before schema version 2 (no embedding) gets its embedding and stems, and a turn
stemmed by another stemmer gets new stems (graphmem/_terms.STEMMER). Each batch is its own
transaction and the walk goes in id order, so a stopped backfill loses nothing and a second
run only does what is left (`graphmem init` runs it)."""

from __future__ import annotations

from collections.abc import Callable

from .._terms import STEMMER, stem_text
from ..embed.base import Embedder
from .queries import Queries


def episodes_missing(queries: Queries) -> int:
    return queries.episodes_backfill_count(STEMMER)


def backfill_episodes(
    queries: Queries, embedder: Embedder, *, batch: int = 256, progress: Callable[[int], None] | None = None
) -> int:
    """Brings every stored turn up to date; returns how many it changed. Only the turns
    without an embedding are embedded. `progress(n)` is called after each committed batch."""
    done, after = 0, ""
    while True:
        rows = queries.episodes_to_backfill(after=after, limit=batch, stemmer=STEMMER)
        if not rows:
            return done
        unembedded = [r for r in rows if r["unembedded"]]
        vectors = dict(zip((r["id"] for r in unembedded), embedder.embed([r["content"] for r in unembedded])))
        filled = [{"id": r["id"], "embedding": vectors.get(r["id"]), "stems": stem_text(r["content"])} for r in rows]
        queries.episodes_backfill(filled, stemmer=STEMMER)
        done += len(rows)
        after = rows[-1]["id"]
        if progress is not None:
            progress(len(rows))
