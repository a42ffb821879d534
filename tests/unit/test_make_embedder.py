"""Which embedder the settings give, what it knows before it loads, and the errors that name
the fix (graphmem/embed/__init__.py)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from graphmem import ConfigError, Settings
from graphmem.embed import HashingEmbedder, LazyEmbedder, make_embedder
from graphmem.embed._bundled import bundled_minilm_path


def test_the_default_is_minilm_known_before_it_loads() -> None:
    embedder = make_embedder(Settings())
    assert isinstance(embedder, LazyEmbedder) and not embedder.loaded
    assert (embedder.model_name, embedder.dim) == ("all-MiniLM-L6-v2", 384)  # the torch path's record
    vector = embedder.embed_one("Where does Anna work?")
    assert embedder.loaded and len(vector) == 384
    assert embedder.embed([]) == []


def test_hashing_takes_its_dimension() -> None:
    embedder = make_embedder(Settings(embedder="hashing", embedding_dim=32))
    assert isinstance(embedder, HashingEmbedder) and embedder.dim == 32
    assert make_embedder(Settings(embedder="hashing")).dim == 384


def test_a_model_folder_gives_its_name_and_dimension(tmp_path: Path) -> None:
    folder = tmp_path / "my-minilm"
    shutil.copytree(bundled_minilm_path(), folder)
    embedder = make_embedder(Settings(embedding_model=str(folder)))
    assert (embedder.model_name, embedder.dim) == ("my-minilm", 384)
    with pytest.raises(ConfigError, match="GRAPHMEM_EMBEDDING_DIM is 512 but the model in .* makes 384"):
        make_embedder(Settings(embedding_model=str(folder), embedding_dim=512))
    with pytest.raises(ConfigError, match="not a sentence-transformers model folder"):
        make_embedder(Settings(embedding_model=str(tmp_path / "nothing")))


def test_an_endpoint_model_of_unknown_length_needs_its_dimension() -> None:
    embedder = make_embedder(Settings(embedder="openai", openai_api_key="sk-test-key-123"))
    assert (embedder.model_name, embedder.dim) == ("text-embedding-3-small", 1536)
    with pytest.raises(ConfigError, match="set GRAPHMEM_EMBEDDING_DIM"):
        make_embedder(Settings(embedder="openai", embedding_model="nomic-embed-text"))


@pytest.mark.skipif(importlib.util.find_spec("sentence_transformers") is not None, reason="the extra is installed")
def test_sentence_transformers_without_the_extra_names_it() -> None:
    embedder = make_embedder(Settings(embedder="sentence-transformers"))
    assert embedder.dim == 384  # known from the folder, nothing imported yet
    with pytest.raises(ConfigError, match=r'pip install "graphmem\[sentence-transformers\]"'):
        embedder.embed(["x"])


def test_a_dense_layer_sets_the_dimension_and_is_refused_by_the_onnx_embedder(tmp_path: Path) -> None:
    """A sentence-transformers folder whose last module projects 384 -> 128."""
    import json

    from graphmem.embed.minilm import MiniLMEmbedder

    folder = tmp_path / "projected"
    shutil.copytree(bundled_minilm_path(), folder)
    modules = json.loads((folder / "modules.json").read_text())
    modules.append({"idx": 3, "name": "3", "path": "3_Dense", "type": "sentence_transformers.models.Dense"})
    (folder / "modules.json").write_text(json.dumps(modules))
    (folder / "3_Dense").mkdir()
    (folder / "3_Dense" / "config.json").write_text(json.dumps({"in_features": 384, "out_features": 128}))
    assert make_embedder(Settings(embedder="sentence-transformers", embedding_model=str(folder))).dim == 128
    with pytest.raises(ConfigError, match="modules this embedder does not run \\(Dense\\).*sentence-transformers"):
        MiniLMEmbedder(folder)
