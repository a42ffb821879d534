"""Makes the turns of a graph written before schema version 2 searchable: each stored
:Message without an embedding gets one (and its stems), batch by batch. Each batch is its
own transaction and the walk goes in id order, so a stopped backfill loses nothing and a
second run only does what is left (`graphmem init` runs it)."""

from __future__ import annotations

from collections.abc import Callable

from ._store import Store
from ._terms import stem_text
from .embed.base import Embedder


def episodes_missing(store: Store) -> int:
    return int(store.run("episodes_backfill_count")[0]["missing"])


def backfill_episodes(
    store: Store, embedder: Embedder, *, batch: int = 256, progress: Callable[[int], None] | None = None
) -> int:
    """Embeds every stored turn that has no embedding yet; returns how many it embedded.
    `progress(n)` is called after each committed batch of n turns."""
    done, after = 0, ""
    while True:
        rows = store.run("episodes_to_backfill", {"after": after, "limit": batch})
        if not rows:
            return done
        vectors = embedder.embed([r["content"] for r in rows])
        filled = [{"id": r["id"], "embedding": v, "stems": stem_text(r["content"])} for r, v in zip(rows, vectors)]
        store.run("episodes_backfill", {"rows": filled}, write=True)
        done += len(rows)
        after = rows[-1]["id"]
        if progress is not None:
            progress(len(rows))
