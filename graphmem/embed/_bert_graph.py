"""A BERT sentence encoder as an ONNX graph, built here from a sentence-transformers folder's
`config.json` and `model.safetensors`: embeddings, the encoder layers (exact-erf GELU) and
mean pooling over the attention mask. ONNX Runtime runs it; nothing is downloaded, and the
graph lives only in memory (serialised in about 0.1 s at the embedder's first use).

Inputs `input_ids` (int64, batch x pieces) and `attention_mask` (float32, same shape);
output `pooled` (float32, batch x hidden), not yet unit length.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import _onnx_proto as proto

#: opset 17 has LayerNormalization as one operator
_OPSET = 17


#: constants of more elements than this are not written into the model: ONNX Runtime takes them
#: from the numpy arrays themselves (`BertGraph.weights`, SessionOptions.add_external_initializers)
_INLINE_ELEMENTS = 1024


@dataclass
class BertGraph:
    """The model's operators and small constants (`model`, serialized), and its weight arrays
    by name, which the model declares as external data: the session is given the arrays, not
    copies of them in a protobuf."""

    model: bytes
    weights: dict[str, np.ndarray]


class _Builder:
    def __init__(self) -> None:
        self.nodes: list[bytes] = []
        self.initializers: list[bytes] = []
        self.weights: dict[str, np.ndarray] = {}
        self._count = 0

    def const(self, name: str, value: Any) -> str:
        array = np.asarray(value)
        if array.size > _INLINE_ELEMENTS:
            self.weights[name] = np.ascontiguousarray(array)
            self.initializers.append(proto.external_tensor(name, array))
        else:
            self.initializers.append(proto.tensor(name, array))
        return name

    def op(self, kind: str, inputs: list[str], output: str | None = None, **attributes: Any) -> str:
        self._count += 1
        out = output or f"{kind.lower()}_{self._count}"
        self.nodes.append(proto.node(kind, inputs, [out], **attributes))
        return out


def bert_graph(path: Path) -> BertGraph:
    """The ONNX model of the BERT encoder + mean pooling in folder `path`, and its weights."""
    from safetensors.numpy import load_file

    config = json.loads((path / "config.json").read_text())
    weights = {
        k.removeprefix("bert."): v.astype(np.float32, copy=False)
        for k, v in load_file(str(path / "model.safetensors")).items()
    }
    hidden, heads = int(config["hidden_size"]), int(config["num_attention_heads"])
    eps = float(config["layer_norm_eps"])
    g = _Builder()

    def w(name: str) -> np.ndarray:
        return weights[name]

    def dense(x: str, prefix: str) -> str:  # x @ W.T + b, W transposed once here
        kernel = g.const(f"{prefix}.kernel", np.ascontiguousarray(w(f"{prefix}.weight").T))
        return g.op("Add", [g.op("MatMul", [x, kernel]), g.const(f"{prefix}.bias", w(f"{prefix}.bias"))])

    def layer_norm(x: str, prefix: str) -> str:
        scale, shift = (
            g.const(f"{prefix}.weight", w(f"{prefix}.weight")),
            g.const(f"{prefix}.bias", w(f"{prefix}.bias")),
        )
        return g.op("LayerNormalization", [x, scale, shift], axis=-1, epsilon=eps)

    zero, one, two = (g.const(f"i{i}", np.array(i, np.int64)) for i in range(3))
    f_one = g.const("f1", np.array(1.0, np.float32))
    pieces = g.op("Gather", [g.op("Shape", ["input_ids"]), one], axis=0)
    x = g.op(
        "Add",
        [
            g.op("Gather", [g.const("words", w("embeddings.word_embeddings.weight")), "input_ids"]),
            g.op(
                "Gather",
                [g.const("positions", w("embeddings.position_embeddings.weight")), g.op("Range", [zero, pieces, one])],
            ),
        ],
    )
    x = layer_norm(
        g.op("Add", [x, g.const("token_type", w("embeddings.token_type_embeddings.weight")[0])]), "embeddings.LayerNorm"
    )
    # padded keys get the most negative float, as transformers' extended attention mask
    most_negative = g.const("most_negative", np.array(np.finfo(np.float32).min, np.float32))
    key_bias = g.op(
        "Unsqueeze",
        [
            g.op("Mul", [g.op("Sub", [f_one, "attention_mask"]), most_negative]),
            g.const("axes12", np.array([1, 2], np.int64)),
        ],
    )
    scale = g.const("scale", np.array(1 / math.sqrt(hidden // heads), np.float32))
    split_heads = g.const("split_heads", np.array([0, 0, 3, heads, hidden // heads], np.int64))
    join_heads = g.const("join_heads", np.array([0, 0, hidden], np.int64))
    half, inv_sqrt2 = (
        g.const("half", np.array(0.5, np.float32)),
        g.const("inv_sqrt2", np.array(1 / math.sqrt(2), np.float32)),
    )
    for i in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{i}"
        # q, k and v in one product: batch x pieces x (3 * hidden) -> 3 x batch x heads x pieces x width
        qkv_kernel = np.concatenate([w(f"{p}.attention.self.{n}.weight") for n in ("query", "key", "value")]).T
        qkv_bias = np.concatenate([w(f"{p}.attention.self.{n}.bias") for n in ("query", "key", "value")])
        qkv = g.op(
            "Add",
            [
                g.op("MatMul", [x, g.const(f"{p}.qkv.kernel", np.ascontiguousarray(qkv_kernel))]),
                g.const(f"{p}.qkv.bias", qkv_bias),
            ],
        )
        qkv = g.op("Transpose", [g.op("Reshape", [qkv, split_heads])], perm=[2, 0, 3, 1, 4])
        q, k, v = (g.op("Gather", [qkv, index], axis=0) for index in (zero, one, two))
        scores = g.op(
            "Add", [g.op("Mul", [g.op("MatMul", [q, g.op("Transpose", [k], perm=[0, 1, 3, 2])]), scale]), key_bias]
        )
        context = g.op("MatMul", [g.op("Softmax", [scores], axis=-1), v])
        context = g.op("Reshape", [g.op("Transpose", [context], perm=[0, 2, 1, 3]), join_heads])
        x = layer_norm(
            g.op("Add", [x, dense(context, f"{p}.attention.output.dense")]), f"{p}.attention.output.LayerNorm"
        )
        up = dense(x, f"{p}.intermediate.dense")
        gelu = g.op("Mul", [g.op("Mul", [up, half]), g.op("Add", [g.op("Erf", [g.op("Mul", [up, inv_sqrt2])]), f_one])])
        x = layer_norm(g.op("Add", [x, dense(gelu, f"{p}.output.dense")]), f"{p}.output.LayerNorm")
    mask = g.op("Unsqueeze", ["attention_mask", g.const("axis2", np.array([2], np.int64))])
    axis1 = g.const("axis1", np.array([1], np.int64))
    summed = g.op("ReduceSum", [g.op("Mul", [x, mask]), axis1], keepdims=0)
    g.op("Div", [summed, g.op("ReduceSum", [mask, axis1], keepdims=0)], output="pooled")
    model = proto.model(
        "sentence_encoder",
        g.nodes,
        g.initializers,
        [
            proto.value_info("input_ids", proto.INT64, ["batch", "pieces"]),
            proto.value_info("attention_mask", proto.FLOAT, ["batch", "pieces"]),
        ],
        [proto.value_info("pooled", proto.FLOAT, ["batch", hidden])],
        opset=_OPSET,
    )
    return BertGraph(model, g.weights)
