"""The sentence-transformers embedder (graphmem/embed/sentence_transformers.py, the
`sentence-transformers` extra): its frozen TorchScript graph gives sentence-transformers' own
vectors, and a graph that would not is never used. Skipped where the extra is not installed."""

from __future__ import annotations

import logging

import numpy as np
import pytest

pytest.importorskip("sentence_transformers", reason='the extra: pip install "graphmem[sentence-transformers]"')

from graphmem.embed.sentence_transformers import SentenceTransformerEmbedder, _Frozen  # noqa: E402

TEXTS = [
    "Where does my sister work now?",
    "",
    "Bosch",
    "Straße, café, 東京, emoji 🙂",
    "word " * 400,  # past the model's 256 tokens: truncated the same way
    *[f"turn {i}: " + "I moved to Hamburg with Anna. " * (i % 5) for i in range(40)],  # several chunks
]


@pytest.fixture(scope="module")
def embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder()


def test_the_frozen_graph_gives_encodes_vectors(embedder: SentenceTransformerEmbedder):
    assert embedder._frozen is not None  # the bundled model is frozen at load
    frozen = np.array(embedder.embed(TEXTS))
    encoded = embedder._encode(TEXTS)
    assert frozen.shape == encoded.shape == (len(TEXTS), embedder.dim)
    np.testing.assert_allclose(frozen, encoded, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(frozen, axis=1), 1.0, atol=1e-5)


def test_a_graph_whose_vectors_differ_from_encode_is_not_used(
    embedder: SentenceTransformerEmbedder, caplog: pytest.LogCaptureFixture
):
    def other_model(texts: list[str]) -> np.ndarray:
        return -embedder._encode(texts)

    with caplog.at_level(logging.WARNING, logger="graphmem"):
        assert _Frozen.of(embedder._model, other_model) is None
    assert "differs from encode" in caplog.text
