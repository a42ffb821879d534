"""Embedders: all-MiniLM-L6-v2 through ONNX Runtime (the default), an OpenAI-compatible
endpoint, sentence-transformers (an extra), and a deterministic hashing double.

`make_embedder` builds none of the real ones: it returns a `LazyEmbedder` that knows the name
and dimension and loads the model (or opens the client) on the first embed."""

from __future__ import annotations

import json
from pathlib import Path

from .._errors import ConfigError
from .._settings import Settings
from ._bundled import MINILM_NAME, bundled_minilm_path, folder_modules
from ._lazy import LazyEmbedder
from .base import Embedder
from .hashing import HashingEmbedder

#: the vector length of OpenAI's embedding models when GRAPHMEM_EMBEDDING_DIM is unset
OPENAI_DIMS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536}
DEFAULT_OPENAI_MODEL = "text-embedding-3-small"


def make_embedder(settings: Settings) -> Embedder:
    """The embedder the settings ask for (GRAPHMEM_EMBEDDER), loaded on first use."""
    if settings.embedder == "hashing":
        return HashingEmbedder(settings.embedding_dim or 384)
    if settings.embedder == "openai":
        return _openai(settings)
    return _local(settings)


def _local(settings: Settings) -> Embedder:
    given = Path(settings.embedding_model).expanduser() if settings.embedding_model else None
    folder = given or bundled_minilm_path()
    dim = _folder_dim(folder)
    if settings.embedding_dim is not None and settings.embedding_dim != dim:
        raise ConfigError(
            f"GRAPHMEM_EMBEDDING_DIM is {settings.embedding_dim} but the model in {folder} makes {dim}-dimensional "
            "vectors: unset GRAPHMEM_EMBEDDING_DIM (a local model's dimension comes from its folder)"
        )
    name = given.name if given else MINILM_NAME
    if settings.embedder == "sentence-transformers":

        def build() -> Embedder:
            from .sentence_transformers import SentenceTransformerEmbedder

            try:
                return SentenceTransformerEmbedder(given)
            except ImportError as exc:
                if (exc.name or "").split(".")[0] not in ("sentence_transformers", "torch", "transformers"):
                    raise
                raise ConfigError(
                    'GRAPHMEM_EMBEDDER=sentence-transformers needs the extra: pip install "graphmem[sentence-transformers]" '
                    "(or use the default GRAPHMEM_EMBEDDER=minilm, which needs no torch)"
                ) from exc

        return LazyEmbedder(build, dim=dim, model_name=name)

    def build_minilm() -> Embedder:
        from .minilm import MiniLMEmbedder

        return MiniLMEmbedder(given)

    return LazyEmbedder(build_minilm, dim=dim, model_name=name)


def _folder_dim(folder: Path) -> int:
    """A sentence-transformers folder's vector length, read from its files (no model loaded):
    its last Dense module's output, else its pooling's width, else its transformer's."""
    dense = [path for kind, path in folder_modules(folder) if kind == "Dense"]
    candidates = [(module / "config.json", "out_features") for module in reversed(dense)]
    candidates += [
        (folder / "1_Pooling" / "config.json", "word_embedding_dimension"),
        (folder / "config.json", "hidden_size"),
    ]
    for path, key in candidates:
        if path.is_file():
            value = json.loads(path.read_text()).get(key)
            if isinstance(value, int):
                return value
    raise ConfigError(
        f"{folder} is not a sentence-transformers model folder (no config.json with hidden_size): "
        "point GRAPHMEM_EMBEDDING_MODEL at one"
    )


def _openai(settings: Settings) -> Embedder:
    model = settings.embedding_model or DEFAULT_OPENAI_MODEL
    dim = settings.embedding_dim or OPENAI_DIMS.get(model)
    if dim is None:
        raise ConfigError(
            f"GRAPHMEM_EMBEDDING_DIM is not set and the vector length of embedding model {model!r} is not known: "
            "set GRAPHMEM_EMBEDDING_DIM to the length its endpoint returns"
        )

    def build() -> Embedder:
        from .openai import OpenAIEmbedder

        return OpenAIEmbedder.from_settings(settings, model=model, dim=dim)

    return LazyEmbedder(build, dim=dim, model_name=model)


__all__ = ["Embedder", "HashingEmbedder", "LazyEmbedder", "make_embedder"]
