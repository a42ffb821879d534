"""graphmem/embed/_onnx_proto.py writes what `onnx` itself reads back field for field, the
ONNX model checker accepts, and ONNX Runtime runs to numpy's answer. (`onnx` is a
development dependency only: the runtime writes the bytes without it.)"""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from graphmem.embed import _onnx_proto as proto
from graphmem.embed._bert_graph import bert_graph
from graphmem.embed._bundled import bundled_minilm_path

WEIGHT = np.arange(12, dtype=np.float32).reshape(3, 4) / 7


def small_model() -> bytes:
    """x @ w (w external: given to the session as an array), transposed, normalised, summed."""
    return proto.model(
        "small",
        [
            proto.node("MatMul", ["x", "w"], ["xw"]),
            proto.node("Transpose", ["xw"], ["t"], perm=[1, 0]),
            proto.node("LayerNormalization", ["t", "scale", "shift"], ["norm"], axis=-1, epsilon=1e-5),
            proto.node("ReduceSum", ["norm", "axes"], ["y"], keepdims=0),
        ],
        [
            proto.external_tensor("w", WEIGHT),
            proto.tensor("scale", np.full(2, 2.0, np.float32)),
            proto.tensor("shift", np.array([0.5, -0.5], np.float32)),
            proto.tensor("axes", np.array([1], np.int64)),
        ],
        [proto.value_info("x", proto.FLOAT, [2, 3])],
        [proto.value_info("y", proto.FLOAT, ["n"])],
        opset=17,
    )


def checked(model: onnx.ModelProto, weights: dict[str, np.ndarray]) -> None:
    """The model checker over a copy with the external tensors' data put in (it would look
    for them in files)."""
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    for tensor in copy.graph.initializer:
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            tensor.raw_data = weights[tensor.name].tobytes()
            tensor.data_location = onnx.TensorProto.DEFAULT
            del tensor.external_data[:]
    onnx.checker.check_model(copy, full_check=True)


def test_onnx_reads_back_every_field() -> None:
    model = onnx.load_from_string(small_model())
    checked(model, {"w": WEIGHT})
    assert (model.ir_version, model.producer_name, [(o.domain, o.version) for o in model.opset_import]) == (
        proto.IR_VERSION,
        "graphmem",
        [("", 17)],
    )
    ops = [(n.op_type, list(n.input), list(n.output)) for n in model.graph.node]
    assert ops[1] == ("Transpose", ["xw"], ["t"])
    attributes = {a.name: onnx.helper.get_attribute_value(a) for n in model.graph.node for a in n.attribute}
    assert attributes["perm"] == [1, 0] and attributes["axis"] == -1 and attributes["keepdims"] == 0
    assert attributes["epsilon"] == pytest.approx(1e-5)
    initializers = {t.name: t for t in model.graph.initializer}
    external = initializers.pop("w")
    assert external.data_location == onnx.TensorProto.EXTERNAL and list(external.dims) == [3, 4]
    assert {e.key: e.value for e in external.external_data} == {"location": "w"} and not external.raw_data
    tensors = {name: onnx.numpy_helper.to_array(t) for name, t in initializers.items()}
    np.testing.assert_array_equal(tensors["scale"], [2.0, 2.0])
    assert tensors["axes"].dtype == np.int64
    (output,) = model.graph.output
    assert output.type.tensor_type.shape.dim[0].dim_param == "n"


def test_onnx_runtime_runs_it_to_numpys_answer() -> None:
    x = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, 1.0]], np.float32)
    options = ort.SessionOptions()
    options.add_external_initializers(["w"], [ort.OrtValue.ortvalue_from_numpy(WEIGHT)])
    session = ort.InferenceSession(small_model(), options, providers=["CPUExecutionProvider"])
    (got,) = session.run(["y"], {"x": x})
    t = (x @ WEIGHT).T
    norm = (t - t.mean(-1, keepdims=True)) / np.sqrt(t.var(-1, keepdims=True) + 1e-5) * 2.0 + np.array([0.5, -0.5])
    np.testing.assert_allclose(got, norm.sum(1), rtol=1e-5, atol=1e-5)


def test_the_minilm_graph_passes_the_model_checker() -> None:
    graph = bert_graph(bundled_minilm_path())
    model = onnx.load_from_string(graph.model)
    checked(model, graph.weights)
    assert [i.name for i in model.graph.input] == ["input_ids", "attention_mask"]
    assert sum(n.op_type == "LayerNormalization" for n in model.graph.node) == 13  # embeddings + 2 per layer
    external = {t.name for t in model.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL}
    assert external == set(graph.weights) and "words" in external
    assert len(graph.model) < 1_000_000  # the weights (90 MB) are not copied into the model
