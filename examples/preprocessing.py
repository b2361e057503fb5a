"""Preprocessing built into the model: u8 HWC images of any size in, class scores out.

    python examples/preprocessing.py                 # the built-in ResNet-18-shaped CNN on CPU
    python examples/preprocessing.py -d AUTO --save model-with-preprocessing.onnx

Written as one would for ``openvino``: ``PrePostProcessor`` adds the conversion, resize,
normalisation and layout change to the model itself, so the device does them in its session and
the program hands over the decoded image unchanged.
"""

from __future__ import annotations

import argparse

import numpy as np

import ovlite as ov
from ovlite import models
from ovlite.preprocess import PrePostProcessor, ResizeAlgorithm

MEAN = [123.675, 116.28, 103.53]  # ImageNet statistics, in the 0..255 range
STD = [58.395, 57.12, 57.375]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-d", "--device", default="CPU")
    parser.add_argument("--save", help="also write the model with its preprocessing (.onnx)")
    args = parser.parse_args()

    core = ov.Core()
    model = core.read_model(models.resnet18(batch=1, image_size=64, num_classes=10))
    print(
        f"model input: {model.input().any_name} {model.input().element_type} {model.input().partial_shape}"
    )

    ppp = PrePostProcessor(model)
    ppp.input().tensor().set_element_type(ov.Type.u8).set_layout(ov.Layout("NHWC"))
    ppp.input().tensor().set_spatial_dynamic_shape()
    ppp.input().preprocess().convert_element_type(ov.Type.f32)
    ppp.input().preprocess().resize(ResizeAlgorithm.RESIZE_LINEAR)
    ppp.input().preprocess().mean(MEAN).scale(STD)
    ppp.input().model().set_layout(ov.Layout("NCHW"))
    print(ppp)
    model = ppp.build()
    port = model.input()
    print(
        f"now takes: {port.element_type} {port.partial_shape} {ov.layout_helpers.get_layout(port)}"
    )

    compiled = core.compile_model(model, args.device)
    rng = np.random.default_rng(0)
    for height, width in ((480, 640), (217, 301)):
        image = rng.integers(0, 256, (1, height, width, 3), dtype=np.uint8)  # a decoded image
        scores = compiled(image)[0][0]
        top = np.argsort(scores)[::-1][:3]
        print(
            f"{height}x{width} image: top classes {top.tolist()}, scores {[f'{s:.3f}' for s in scores[top]]}"
        )

    # the same numbers by hand, in numpy: the preprocessing ran inside the model
    image = rng.integers(0, 256, (1, 64, 64, 3), dtype=np.uint8)  # already the model's size
    by_hand = ((image.astype(np.float32) - MEAN) / STD).transpose(0, 3, 1, 2).astype(np.float32)
    plain = core.compile_model(models.resnet18(batch=1, image_size=64, num_classes=10), args.device)
    difference = np.abs(compiled(image)[0] - plain(by_hand)[0]).max()
    print(f"largest difference from numpy preprocessing: {difference:.2e}")

    if args.save:
        ov.save_model(model, args.save)
        print(
            f"saved to {args.save}; ov.read_model gives back a model taking {ov.read_model(args.save).input().element_type}"
        )


if __name__ == "__main__":
    main()
