"""The few ONNX messages a model graph needs, written in protobuf's wire format (onnx.proto3:
ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto).

Why not the `onnx` package: importing it takes 0.7-0.8 s and it adds ~25 MB to the install,
for serialising one graph. The field numbers below are onnx.proto's; tests/unit/test_onnx_proto.py
checks the bytes with `onnx` itself (a development dependency) and its model checker.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence

import numpy as np

#: TensorProto.DataType
FLOAT, INT64 = 1, 7
_DATA_TYPES = {np.dtype(np.float32): FLOAT, np.dtype(np.int64): INT64}
#: AttributeProto.AttributeType
_ATTR_FLOAT, _ATTR_INT, _ATTR_INTS = 1, 2, 7
#: the IR version of opset 17 models (onnx 1.12+)
IR_VERSION = 8


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64s as two's complement, ten bytes
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def _int(field: int, value: int) -> bytes:
    return _key(field, 0) + _varint(value)


def _bytes(field: int, value: bytes) -> bytes:
    return _key(field, 2) + _varint(len(value)) + value


def _str(field: int, value: str) -> bytes:
    return _bytes(field, value.encode())


def _float(field: int, value: float) -> bytes:
    return _key(field, 5) + struct.pack("<f", value)


def attribute(name: str, value: int | float | Sequence[int]) -> bytes:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        ints = b"".join(_int(8, v) for v in value)  # type: ignore[union-attr]
        return _str(1, name) + ints + _int(20, _ATTR_INTS)
    if isinstance(value, int):
        return _str(1, name) + _int(3, value) + _int(20, _ATTR_INT)
    return _str(1, name) + _float(2, value) + _int(20, _ATTR_FLOAT)


def node(
    op_type: str, inputs: Iterable[str], outputs: Iterable[str], **attributes: int | float | Sequence[int]
) -> bytes:
    fields = [_str(1, i) for i in inputs] + [_str(2, o) for o in outputs] + [_str(4, op_type)]
    fields += [_bytes(5, attribute(name, value)) for name, value in attributes.items()]
    return b"".join(fields)


def tensor(name: str, array: np.ndarray) -> bytes:
    dims = b"".join(_int(1, d) for d in array.shape)  # none for a scalar
    raw = np.asarray(array, dtype=array.dtype.newbyteorder("<")).tobytes(order="C")
    return dims + _int(2, _DATA_TYPES[array.dtype]) + _str(8, name) + _bytes(9, raw)


def external_tensor(name: str, array: np.ndarray) -> bytes:
    """A tensor whose data is not in the model (data_location EXTERNAL): ONNX Runtime is given
    the array itself (SessionOptions.add_external_initializers)."""
    dims = b"".join(_int(1, d) for d in array.shape)
    location = _bytes(13, _str(1, "location") + _str(2, name))
    return dims + _int(2, _DATA_TYPES[array.dtype]) + _str(8, name) + location + _int(14, 1)


def value_info(name: str, elem_type: int, shape: Sequence[int | str]) -> bytes:
    dims = b"".join(_bytes(1, _int(1, d) if isinstance(d, int) else _str(2, d)) for d in shape)
    tensor_type = _int(1, elem_type) + _bytes(2, dims)
    return _str(1, name) + _bytes(2, _bytes(1, tensor_type))


def model(
    name: str,
    nodes: Sequence[bytes],
    initializers: Sequence[bytes],
    inputs: Sequence[bytes],
    outputs: Sequence[bytes],
    *,
    opset: int,
    producer: str = "graphmem",
) -> bytes:
    graph = b"".join(
        [*(_bytes(1, n) for n in nodes), _str(2, name), *(_bytes(5, t) for t in initializers)]
        + [*(_bytes(11, i) for i in inputs), *(_bytes(12, o) for o in outputs)]
    )
    opset_import = _str(1, "") + _int(2, opset)
    return _int(1, IR_VERSION) + _str(2, producer) + _bytes(7, graph) + _bytes(8, opset_import)
