"""A local model through sentence-transformers and torch (the `sentence-transformers` extra):
GRAPHMEM_EMBEDDER=sentence-transformers, GRAPHMEM_EMBEDDING_MODEL a model folder (default the
bundled all-MiniLM-L6-v2; nothing is fetched from a model hub). The default embedder
(`minilm`) computes the bundled model's vectors without torch.

On the CPU the transformer also runs as a frozen TorchScript graph (`_Frozen`): the same
weights and the same mean pooling, about a third less time per call (a search's question,
an add's batch), because the graph is optimised for inference once at load. Its output is
checked against sentence-transformers' own `encode` on a padded sample at load; if they
differ (another model folder, another torch) or tracing fails, `encode` is used as before.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from pathlib import Path
from typing import Any, cast

from .._errors import ConfigError
from ._bundled import MINILM_NAME, bundled_minilm_path
from .base import Embedder

log = logging.getLogger("graphmem")
# texts padded to their chunk's longest: chunks of similar lengths (sorted) waste little
_CHUNK = 16
# what the frozen graph must reproduce of encode's vectors, per component
_TOLERANCE = 1e-5
_SAMPLE = [
    "Where does my sister work now?",
    "Bosch",
    "I moved to Hamburg last year, close to the harbour and the park.",
]


class SentenceTransformerEmbedder(Embedder):
    def __init__(
        self, model_path: str | Path | None = None, *, device: str = "cpu", batch_size: int = 64, frozen: bool = True
    ):
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
        self.model_name = path.name if model_path else MINILM_NAME
        self._frozen = _Frozen.of(self._model, self._encode) if frozen and device == "cpu" else None

    def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:
            vectors = self._frozen.embed(texts) if self._frozen is not None else self._encode(texts)
        return cast("list[list[float]]", vectors.tolist())

    def _encode(self, texts: list[str]) -> Any:
        return self._model.encode(
            texts, batch_size=self._batch_size, normalize_embeddings=True, show_progress_bar=False
        )


class _Frozen:
    """The model's transformer as a frozen TorchScript graph, then mean pooling and unit
    length, as the sentence-transformers pipeline of all-MiniLM-L6-v2 computes them."""

    def __init__(self, tokenizer: Any, graph: Any, inputs: list[str], max_length: int):
        self.tokenizer = tokenizer
        self.graph = graph
        self.inputs = inputs  # the tokenizer outputs the graph takes, in order
        self.max_length = max_length

    @classmethod
    def of(cls, model: Any, encode: Any) -> _Frozen | None:
        """The frozen graph of `model`, or None (with the reason logged) when its pipeline is
        not transformer + mean pooling (+ normalize), or the graph's vectors are not encode's."""
        try:
            import numpy as np
            import torch

            modules = list(model)
            pooling = modules[1].get_config_dict() if len(modules) > 1 else {}
            if len(modules) > 3 or pooling.get("pooling_mode") != "mean":
                log.info("embedder: %s is not transformer + mean pooling; using encode", type(model).__name__)
                return None
            tokenizer, transformer = model.tokenizer, modules[0].auto_model.eval()
            sample = tokenizer(_SAMPLE, padding=True, return_tensors="pt")  # padded: the mask is traced
            inputs = [name for name in ("input_ids", "attention_mask", "token_type_ids") if name in sample]

            class Hidden(torch.nn.Module):
                def __init__(self) -> None:
                    super().__init__()
                    self.transformer = transformer

                def forward(self, *tensors: Any) -> Any:
                    return self.transformer(**dict(zip(inputs, tensors, strict=True))).last_hidden_state

            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # tracer warnings about Python-side checks
                traced = torch.jit.trace(  # type: ignore[no-untyped-call]
                    Hidden().eval(), tuple(sample[n] for n in inputs), check_trace=False
                )
                graph = torch.jit.optimize_for_inference(torch.jit.freeze(traced))
            frozen = cls(tokenizer, graph, inputs, int(modules[0].max_seq_length))
            gap = float(np.abs(frozen.embed(_SAMPLE) - encode(_SAMPLE)).max())
            if gap > _TOLERANCE:
                log.warning("embedder: the frozen graph differs from encode by %.2g; using encode", gap)
                return None
            return frozen
        except Exception as exc:  # a torch or model this does not fit: encode works as before
            log.warning("embedder: could not freeze the model (%s); using encode", exc)
            return None

    def embed(self, texts: list[str]) -> Any:
        import numpy as np
        import torch

        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        vectors = None
        with torch.no_grad():
            for start in range(0, len(order), _CHUNK):
                chunk = order[start : start + _CHUNK]
                batch = self.tokenizer(
                    [texts[i] for i in chunk],
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                )
                hidden = self.graph(*(batch[name] for name in self.inputs))
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                unit = torch.nn.functional.normalize(pooled, dim=1).numpy()
                if vectors is None:
                    vectors = np.empty((len(texts), unit.shape[1]), dtype=np.float32)
                vectors[chunk] = unit
        return vectors
