"""The torch-free MiniLM (graphmem/embed/minilm.py) gives sentence-transformers' vectors:
1,200 strings (names, facts, questions, unicode, punctuation only, blank, turns past the
256-piece truncation; bench/embedder/strings.py) against the reference that
bench/embedder/reference.py computed with the torch path (tests/fixtures)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from graphmem.embed.minilm import MINILM_DIM, MINILM_NAME, MiniLMEmbedder

REFERENCE = Path(__file__).resolve().parents[1] / "fixtures" / "minilm_reference.npz"


@pytest.fixture(scope="module")
def embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder()


@pytest.fixture(scope="module")
def reference() -> tuple[list[str], np.ndarray]:
    data = np.load(REFERENCE)
    return [str(t) for t in data["texts"]], data["vectors"].astype(np.float32)


def test_every_vector_is_the_torch_paths(embedder: MiniLMEmbedder, reference: tuple[list[str], np.ndarray]) -> None:
    texts, expected = reference
    assert len(texts) >= 1000
    assert sum(not t.strip() for t in texts) >= 50  # blank after stripping
    assert sum(len(t.split()) > 256 for t in texts) >= 50  # past the truncation
    got = np.array(embedder.embed(texts), dtype=np.float32)
    assert got.shape == (len(texts), MINILM_DIM)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    cosine = (got * expected).sum(1) / np.linalg.norm(expected, axis=1)
    worst = int(cosine.argmin())
    assert cosine.min() >= 0.9999, f"{texts[worst]!r}: cosine {cosine[worst]}"


def test_a_text_gets_one_vector_whatever_its_batch(embedder: MiniLMEmbedder) -> None:
    texts = ["Bosch", "Where does my sister work now?", "word " * 400, "", "Straße, café, 東京 🙂"]
    alone = np.array([embedder.embed([t])[0] for t in texts])
    together = np.array(embedder.embed(texts * 20))[: len(texts)]
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_words_past_the_truncation_change_nothing(embedder: MiniLMEmbedder) -> None:
    long = "I moved to Hamburg with Anna last spring. " * 40  # far past 256 word pieces
    a, b = embedder.embed([long, long + " And then I became an astronaut on Mars."])
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_names_and_sizes(embedder: MiniLMEmbedder) -> None:
    assert (embedder.dim, embedder.model_name, embedder.max_length) == (MINILM_DIM, MINILM_NAME, 256)
    assert embedder.embed([]) == []


def test_a_folder_without_the_files_names_what_is_missing(tmp_path: Path) -> None:
    from graphmem import ConfigError

    with pytest.raises(ConfigError, match="lacks config.json, tokenizer.json, model.safetensors"):
        MiniLMEmbedder(tmp_path)
