"""Deterministic ONNX test models for ovlite.

Everything here is built in-process with ``onnx.helper`` and numpy, so tests and benchmarks need no
network access and no deep-learning framework. Weights come from ``numpy.random.default_rng(seed)``
and use He-style scaling (standard deviation ``sqrt(2 / fan_in)``), which keeps activations finite
and of moderate size even though the networks are untrained.

All models target opset 17 with IR version 8, so older ONNX Runtime releases and OpenVINO can
load them. A batch size of ``None`` gives a symbolic leading dimension named ``"batch"``.

Besides the builders, the module offers two cheap model statistics: :func:`flops` (an estimate
based on multiply-accumulates in Conv, Gemm and MatMul nodes) and :func:`parameter_bytes`.
"""

from __future__ import annotations

import math

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8
BATCH_DIM = "batch"

__all__ = [
    "BUILTIN",
    "build",
    "flops",
    "parameter_bytes",
    "resnet18",
    "tiny_mlp",
    "two_inputs",
]


class _Graph:
    """Small accumulator for nodes and initializers with unique, readable tensor names."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []

    def weight(self, name: str, shape: tuple[int, ...], fan_in: int, gain: float = 2.0) -> str:
        """Add a float32 initializer drawn from N(0, gain / fan_in) and return its name."""
        std = math.sqrt(gain / fan_in)
        data = self.rng.standard_normal(shape, dtype=np.float32) * np.float32(std)
        self.initializers.append(numpy_helper.from_array(data, name))
        return name

    def bias(self, name: str, size: int) -> str:
        """Add a small float32 bias vector (stands in for a folded BatchNorm shift)."""
        data = self.rng.standard_normal(size, dtype=np.float32) * np.float32(0.01)
        self.initializers.append(numpy_helper.from_array(data, name))
        return name

    def node(self, op: str, inputs: list[str], output: str, **attrs) -> str:
        """Append a single-output node and return the output tensor name."""
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    def conv(
        self, x: str, name: str, c_in: int, c_out: int, k: int, stride: int = 1, gain: float = 2.0
    ) -> str:
        """Conv with bias and 'same'-style padding (k // 2), i.e. Conv + folded BatchNorm."""
        w = self.weight(f"{name}.weight", (c_out, c_in, k, k), fan_in=c_in * k * k, gain=gain)
        b = self.bias(f"{name}.bias", c_out)
        pad = k // 2
        return self.node(
            "Conv",
            [x, w, b],
            name,
            kernel_shape=[k, k],
            strides=[stride, stride],
            pads=[pad, pad, pad, pad],
        )

    def relu(self, x: str) -> str:
        return self.node("Relu", [x], f"{x}.relu")

    def gemm(self, x: str, name: str, n_in: int, n_out: int, gain: float = 2.0) -> str:
        """Fully connected layer: y = x @ W.T + b, with W stored as [n_out, n_in]."""
        w = self.weight(f"{name}.weight", (n_out, n_in), fan_in=n_in, gain=gain)
        b = self.bias(f"{name}.bias", n_out)
        return self.node("Gemm", [x, w, b], name, transB=1)

    def model(
        self,
        name: str,
        inputs: list[onnx.ValueInfoProto],
        outputs: list[onnx.ValueInfoProto],
    ) -> onnx.ModelProto:
        """Wrap everything into a checked ModelProto with the module's opset and IR version."""
        graph = helper.make_graph(self.nodes, name, inputs, outputs, self.initializers)
        model = helper.make_model(
            graph,
            producer_name="ovlite",
            opset_imports=[helper.make_opsetid("", OPSET)],
            ir_version=IR_VERSION,
        )
        onnx.checker.check_model(model, full_check=True)
        return model


def _batch(batch: int | None) -> int | str:
    return BATCH_DIM if batch is None else int(batch)


def _tensor(name: str, elem_type: int, shape: list[int | str]) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, elem_type, shape)


def resnet18(
    batch: int | None = None, image_size: int = 224, num_classes: int = 1000, seed: int = 0
) -> onnx.ModelProto:
    """Build an untrained ResNet-18 image classifier.

    Layout follows the classic architecture with BatchNorm folded into each convolution's bias:
    a 7x7/2 stem conv (64 channels), ReLU and 3x3/2 max pooling, four stages of two basic blocks
    (64, 128, 256, 512 channels; stages 2-4 start with a stride-2 block whose shortcut is a 1x1/2
    conv), global average pooling and a fully connected layer. At 224x224 this is about 1.8 GMACs
    and 11.7M parameters per image.

    Input ``"input"`` is float32 ``[N, 3, image_size, image_size]``; output ``"logits"`` is float32
    ``[N, num_classes]``. ``N`` is the symbolic ``"batch"`` dimension when ``batch`` is None.
    """
    g = _Graph(seed)
    x = g.relu(g.conv("input", "stem", 3, 64, k=7, stride=2))
    x = g.node("MaxPool", [x], "stem.pool", kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4)

    c_in = 64
    for stage, c_out in enumerate((64, 128, 256, 512), start=1):
        for block in range(2):
            stride = 2 if stage > 1 and block == 0 else 1
            name = f"layer{stage}.{block}"
            y = g.relu(g.conv(x, f"{name}.conv1", c_in, c_out, k=3, stride=stride))
            # A reduced gain on the branch's last conv (think: small folded BN scale) stops the
            # residual sums from growing by ~sqrt(2) per block in this untrained network.
            y = g.conv(y, f"{name}.conv2", c_out, c_out, k=3, gain=0.5)
            if stride != 1 or c_in != c_out:
                x = g.conv(x, f"{name}.downsample", c_in, c_out, k=1, stride=stride)
            x = g.relu(g.node("Add", [y, x], f"{name}.add"))
            c_in = c_out

    x = g.node("GlobalAveragePool", [x], "avgpool")
    x = g.node("Flatten", [x], "flatten", axis=1)
    g.gemm(x, "logits", 512, num_classes, gain=1.0)

    n = _batch(batch)
    return g.model(
        "resnet18",
        [_tensor("input", TensorProto.FLOAT, [n, 3, image_size, image_size])],
        [_tensor("logits", TensorProto.FLOAT, [n, num_classes])],
    )


def tiny_mlp(
    batch: int | None = 1,
    in_features: int = 16,
    hidden: int = 32,
    out_features: int = 8,
    seed: int = 0,
) -> onnx.ModelProto:
    """Build a two-layer perceptron (Gemm, ReLU, Gemm) so small that per-call overhead dominates.

    Input ``"x"`` is float32 ``[N, in_features]``; output ``"y"`` is float32
    ``[N, out_features]``. ``N`` defaults to 1 and is the symbolic ``"batch"`` when None.
    """
    g = _Graph(seed)
    h = g.relu(g.gemm("x", "fc1", in_features, hidden))
    g.gemm(h, "y", hidden, out_features, gain=1.0)

    n = _batch(batch)
    return g.model(
        "tiny_mlp",
        [_tensor("x", TensorProto.FLOAT, [n, in_features])],
        [_tensor("y", TensorProto.FLOAT, [n, out_features])],
    )


def two_inputs(seed: int = 0) -> onnx.ModelProto:
    """Build a tiny model with mixed-dtype inputs and two outputs, for API tests.

    Inputs: ``"a"`` float32 ``[batch, 4]`` and ``"b"`` int64 ``[batch, 4]``.
    Outputs: ``"sum"`` = ``a + float(b)`` with shape ``[batch, 4]``, and
    ``"scaled"`` = ``a @ W`` with a fixed ``[4, 3]`` weight, shape ``[batch, 3]``.
    """
    g = _Graph(seed)
    b = g.node("Cast", ["b"], "b.float", to=TensorProto.FLOAT)
    g.node("Add", ["a", b], "sum")
    g.node("MatMul", ["a", g.weight("W", (4, 3), fan_in=4, gain=1.0)], "scaled")

    return g.model(
        "two_inputs",
        [
            _tensor("a", TensorProto.FLOAT, [BATCH_DIM, 4]),
            _tensor("b", TensorProto.INT64, [BATCH_DIM, 4]),
        ],
        [
            _tensor("sum", TensorProto.FLOAT, [BATCH_DIM, 4]),
            _tensor("scaled", TensorProto.FLOAT, [BATCH_DIM, 3]),
        ],
    )


def _shapes_with_batch(model: onnx.ModelProto, batch: int) -> dict[str, list[int]]:
    """Infer static shapes of every tensor after binding all symbolic input dims to ``batch``.

    Initializer payloads are dropped from the working copy (only their shapes matter), so this
    stays fast for models with many parameters.
    """
    graph = onnx.GraphProto()
    graph.CopyFrom(model.graph)
    del graph.initializer[:]
    declared = {value.name for value in graph.input}
    graph.input.extend(
        helper.make_tensor_value_info(t.name, t.data_type, list(t.dims))
        for t in model.graph.initializer
        if t.name not in declared
    )
    for value in graph.input:
        for dim in value.type.tensor_type.shape.dim:
            if not dim.HasField("dim_value"):
                dim.dim_value = batch
    del graph.output[:]  # keep outputs from pinning the symbolic batch dimension
    del graph.value_info[:]
    skeleton = helper.make_model(graph, opset_imports=model.opset_import)
    skeleton.ir_version = model.ir_version
    inferred = onnx.shape_inference.infer_shapes(skeleton, strict_mode=True)

    shapes = {}
    g = inferred.graph
    for value in [*g.input, *g.value_info, *g.output]:
        dims = value.type.tensor_type.shape.dim
        shapes[value.name] = [d.dim_value for d in dims]
    return shapes


def flops(model: onnx.ModelProto, batch: int = 1) -> int:
    """Estimate the floating-point operations of one inference as 2 x multiply-accumulates.

    Only Conv, Gemm and MatMul nodes are counted; elementwise ops, pooling and bias additions
    are ignored since they are negligible next to the matrix work. Symbolic input dimensions
    are bound to ``batch``; fixed dimensions are used as they are. Divide by the batch size to
    get a per-image figure.
    """
    shapes = _shapes_with_batch(model, batch)
    macs = 0
    for node in model.graph.node:
        if node.op_type == "Conv":
            # Each output element needs (C_in / groups) * kh * kw MACs, which is the weight's
            # per-filter size.
            out, weight = shapes[node.output[0]], shapes[node.input[1]]
            macs += math.prod(out) * math.prod(weight[1:])
        elif node.op_type == "Gemm":
            trans_a = next((a.i for a in node.attribute if a.name == "transA"), 0)
            a = shapes[node.input[0]]
            k = a[0] if trans_a else a[1]
            macs += math.prod(shapes[node.output[0]]) * k
        elif node.op_type == "MatMul":
            k = shapes[node.input[0]][-1]
            macs += math.prod(shapes[node.output[0]]) * k
    return 2 * macs


def parameter_bytes(model: onnx.ModelProto) -> int:
    """Total size in bytes of all initializer tensors, computed from their shapes and dtypes."""
    return sum(
        math.prod(t.dims) * np.dtype(helper.tensor_dtype_to_np_dtype(t.data_type)).itemsize
        for t in model.graph.initializer
    )


def activation_bytes(model: onnx.ModelProto, batch: int = 1) -> int:
    """Bytes of every tensor one inference computes (inputs, intermediate values, outputs) at
    ``batch``, counting 4 bytes an element.  An upper bound on the working memory: runtimes
    reuse buffers, so the peak is lower.  Device plugins size batches with it."""
    shapes = _shapes_with_batch(model, batch)
    weights = {t.name for t in model.graph.initializer}
    return 4 * sum(math.prod(dims) for name, dims in shapes.items() if name not in weights)


BUILTIN = {"resnet18": resnet18, "tiny_mlp": tiny_mlp, "two_inputs": two_inputs}


def build(name: str, **kwargs) -> onnx.ModelProto:
    """Build a built-in model by name, passing keyword arguments through to its builder."""
    try:
        builder = BUILTIN[name]
    except KeyError:
        known = ", ".join(sorted(BUILTIN))
        raise ValueError(f"unknown model {name!r}; built-in models are: {known}") from None
    return builder(**kwargs)
