"""HETERO and query_model: which device runs which node, and one model split over two.

    python examples/hetero_split.py                        # HETERO:OPENVINO.CPU,CPU
    python examples/hetero_split.py -d HETERO:GPU,CPU -m model.onnx

Without ``-m`` it builds a small model with an ONNX Runtime contrib operator (FastGelu) that
the CPU provider runs and the OpenVINO provider does not, so the split is visible.  It prints
``query_model`` for each listed device and for HETERO, compiles HETERO, and compares its
outputs with the last device alone.
"""

from __future__ import annotations

import argparse

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import ovlite as ov
import ovlite.properties as props
from ovlite import models
from ovlite.device_string import parse_device


def contrib_model() -> onnx.ModelProto:
    """MatMul -> FastGelu (com.microsoft) -> MatMul -> Relu, on [4, 64] inputs."""
    rng = np.random.default_rng(0)
    w1 = numpy_helper.from_array(rng.standard_normal((64, 256)).astype(np.float32), "w1")
    w2 = numpy_helper.from_array(rng.standard_normal((256, 64)).astype(np.float32), "w2")
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h"], name="fc1"),
        helper.make_node("FastGelu", ["h"], ["g"], name="gelu", domain="com.microsoft"),
        helper.make_node("MatMul", ["g", "w2"], ["z"], name="fc2"),
        helper.make_node("Relu", ["z"], ["y"], name="relu"),
    ]
    graph = helper.make_graph(
        nodes,
        "contrib",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 64])],
        [w1, w2],
    )
    opsets = [helper.make_opsetid("", models.OPSET), helper.make_opsetid("com.microsoft", 1)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=models.IR_VERSION)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-d", "--device", default="HETERO:OPENVINO.CPU,CPU")
    parser.add_argument("-m", "--model", help="an ONNX file (default: a built-in split model)")
    args = parser.parse_args()

    core = ov.Core()
    model = core.read_model(args.model) if args.model else core.read_model(contrib_model())
    children = [child.full_name for child in parse_device(args.device).children]
    # compare at f32: OpenVINO runs bf16 by default on CPUs that have it
    f32 = {"INFERENCE_PRECISION_HINT": "f32"}
    per_device = {name: f32 for name in children if name.startswith("OPENVINO")}

    for name in children:
        placement = core.query_model(model, name)
        print(f"{name} supports {len(placement)} of {len(model.proto.graph.node)} nodes")
    split = core.query_model(model, args.device)
    for node, device in split.items():
        print(f"  {node:>24} -> {device}")

    hetero = core.compile_model(model, args.device, {"DEVICE_PROPERTIES": per_device})
    print(f"{args.device} runs on {hetero.get_property(props.execution_devices)}")
    print("  why:", hetero.get_property(props.configuration_reason))

    alone = core.compile_model(model, children[-1])
    rng = np.random.default_rng(1)
    data = {
        port.any_name: rng.standard_normal([d if d > 0 else 1 for d in port.partial_shape]).astype(
            port.element_type.to_dtype()
        )
        for port in model.inputs
    }
    difference = max(
        float(np.max(np.abs(a - b)))
        for a, b in zip(hetero(data).to_tuple(), alone(data).to_tuple(), strict=True)
    )
    print(f"largest difference from {children[-1]} alone: {difference:.2e}")


if __name__ == "__main__":
    main()
