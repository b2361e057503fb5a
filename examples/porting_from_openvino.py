"""An OpenVINO-style program that runs on ovlite with only its imports changed.

    python examples/porting_from_openvino.py              # CPU
    python examples/porting_from_openvino.py -d MULTI:CPU -n 24

It uses nothing ovlite adds: the model is an ONNX file written with onnx's helper API, read
with ``read_model``; ``PrePostProcessor`` makes it take u8 NHWC images; it is compiled with a
throughput hint, its properties are read back, and an ``AsyncInferQueue`` with a callback
classifies a batch of images, checked against synchronous inference.  Replace the two
``ovlite`` imports with ``openvino`` ones and it runs on openvino the same way.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import ovlite as ov
import ovlite.properties as props

SIZE, CLASSES = 32, 5


def write_classifier(path: Path) -> None:
    """A small seeded CNN (Conv, Relu, GlobalAveragePool, Gemm, Softmax) over NCHW f32 images."""
    rng = np.random.default_rng(7)

    def weights(name: str, *shape: int, spread: float = 1.0) -> onnx.TensorProto:
        return numpy_helper.from_array(rng.normal(0, spread, shape).astype(np.float32), name)

    nodes = [
        helper.make_node("Conv", ["image", "kernel", "bias"], ["features"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["features"], ["active"]),
        helper.make_node("GlobalAveragePool", ["active"], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["flat"]),
        helper.make_node("Gemm", ["flat", "dense", "offset"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["scores"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_classifier",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, CLASSES])],
        [
            weights("kernel", 8, 3, 3, 3),
            weights("bias", 8, spread=0.1),
            weights("dense", 8, CLASSES, spread=3.0),
            weights("offset", CLASSES, spread=0.1),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    onnx.save(model, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-d", "--device", default="CPU")
    parser.add_argument("-n", "--images", type=int, default=12)
    args = parser.parse_args()

    core = ov.Core()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "classifier.onnx"
        write_classifier(path)
        model = core.read_model(path)
    print(f"read {path.name}: input {model.input().any_name!r} {model.input().shape}")

    # Let the model take decoded images as they are: u8, NHWC, 0..255.
    ppp = ov.preprocess.PrePostProcessor(model)
    ppp.input().tensor().set_element_type(ov.Type.u8).set_layout(ov.Layout("NHWC"))
    ppp.input().preprocess().convert_element_type(ov.Type.f32).scale(255.0)
    ppp.input().model().set_layout(ov.Layout("NCHW"))
    model = ppp.build()
    port = model.input()
    print(f"after preprocessing it takes {port.element_type.get_type_name()} {port.shape}")

    config = {props.hint.performance_mode: props.hint.PerformanceMode.THROUGHPUT}
    compiled = core.compile_model(model, args.device, config)
    requests = compiled.get_property(props.optimal_number_of_infer_requests)
    print(f"compiled on {args.device}: {requests} requests in flight are optimal")
    print(f"  PERFORMANCE_HINT: {compiled.get_property(props.hint.performance_mode)}")
    print(f"  EXECUTION_DEVICES: {compiled.get_property(props.execution_devices)}")

    rng = np.random.default_rng(0)
    # noise under a colour of its own for each image, so that the classes differ
    colours = rng.integers(0, 256, (args.images, 1, 1, 1, 3))
    noise = rng.integers(-40, 40, (args.images, 1, SIZE, SIZE, 3))
    images = np.clip(colours + noise, 0, 255).astype(np.uint8)
    classes: dict[int, int] = {}

    def on_done(request: ov.InferRequest, index: int) -> None:
        classes[index] = int(np.argmax(request.get_output_tensor().data))

    queue = ov.AsyncInferQueue(compiled)
    queue.set_callback(on_done)
    for index, image in enumerate(images):
        queue.start_async({0: image}, index)
    queue.wait_all()
    print(f"AsyncInferQueue of {len(queue)} requests classified {len(classes)} images")

    expected = {i: int(np.argmax(compiled(image)[0])) for i, image in enumerate(images)}
    agree = sum(classes[i] == expected[i] for i in expected)
    print(f"classes: {[classes[i] for i in range(len(images))]}")
    print(f"{agree} of {len(images)} agree with synchronous inference")


if __name__ == "__main__":
    main()
