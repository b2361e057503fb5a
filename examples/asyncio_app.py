"""An asyncio program: many coroutines await inferences without blocking the event loop.

python examples/asyncio_app.py -d CPU -n 64
"""

from __future__ import annotations

import argparse
import asyncio
import time

import numpy as np

import ovlite as ov
from ovlite import models


async def classify(compiled: ov.CompiledModel, seed: int) -> int:
    """Stand-in for a request handler: build an input, await the model, return the top class."""
    image = np.random.default_rng(seed).standard_normal((1, 3, 64, 64)).astype(np.float32)
    results = await compiled.infer_async({"input": image})
    return int(np.argmax(results["logits"]))


async def main(device: str, count: int) -> None:
    core = ov.Core()
    model = core.read_model(models.resnet18(batch=1, image_size=64))
    compiled = core.compile_model(model, device, {"PERFORMANCE_HINT": "THROUGHPUT"})
    started = time.perf_counter()
    classes = await asyncio.gather(*(classify(compiled, seed) for seed in range(count)))
    elapsed = time.perf_counter() - started
    print(
        f"{count} concurrent inferences on {device} in {elapsed:.2f} s; first classes: {classes[:8]}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-d", "--device", default="CPU")
    parser.add_argument("-n", "--count", type=int, default=64)
    args = parser.parse_args()
    asyncio.run(main(args.device, args.count))
