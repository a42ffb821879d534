"""Writes tests/fixtures/minilm_reference.npz: the strings of `strings.py` and their vectors by
sentence-transformers' own `encode` (the torch path, the `sentence-transformers` extra), the
reference tests/unit/test_minilm.py holds the torch-free embedder to.

    uv sync --extra sentence-transformers && .venv/bin/python -m bench.embedder.reference

Vectors are stored as float16 (cosine to the float32 originals >= 0.999999, checked here),
which keeps the fixture small."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.embedder.strings import strings
from graphmem.embed.minilm import bundled_minilm_path

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "minilm_reference.npz"


def main() -> None:
    from sentence_transformers import SentenceTransformer, __version__

    texts = strings()
    model = SentenceTransformer(str(bundled_minilm_path()), device="cpu")
    vectors = model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
    stored = vectors.astype(np.float16)
    back = stored.astype(np.float32)
    cosine = (back * vectors).sum(1) / np.linalg.norm(back, axis=1)
    assert cosine.min() >= 0.999999, cosine.min()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        OUT, texts=np.array(texts), vectors=stored, source=np.array(f"sentence-transformers {__version__}")
    )
    print(f"{OUT}: {len(texts)} strings, {OUT.stat().st_size / 1e6:.2f} MB, float16 cosine >= {cosine.min():.7f}")


if __name__ == "__main__":
    main()
