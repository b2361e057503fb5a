"""RAY: the same program, served by replicas on a Ray cluster.

    python examples/ray_replicas.py                      # 2 replicas on a local Ray instance
    RAY_ADDRESS=ray://head:10001 python examples/ray_replicas.py -r 8
    python examples/ray_replicas.py -d RAY:MULTI:GPU,CPU

Each replica is a Ray actor holding one compiled model (the part after ``RAY:`` is the device
it compiles on); ovlite spreads the queue's requests over the replicas' free slots.  Without
``RAY_ADDRESS`` a local instance is started on loopback.  See docs/ray.md.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import ovlite as ov
import ovlite.properties as props
from ovlite import models


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-d", "--device", default="RAY:CPU")
    parser.add_argument("-r", "--replicas", type=int, default=2)
    parser.add_argument("-n", "--requests", type=int, default=200)
    args = parser.parse_args()

    core = ov.Core()
    model = core.read_model(models.resnet18(batch=1, image_size=64))
    started = time.perf_counter()
    compiled = core.compile_model(
        model, args.device, {"RAY_REPLICAS": args.replicas, "PERFORMANCE_HINT": "THROUGHPUT"}
    )
    print(
        f"{args.device}: {compiled.get_property('RAY_REPLICAS')} replicas ready in "
        f"{time.perf_counter() - started:.1f} s, "
        f"{compiled.get_property(props.optimal_number_of_infer_requests)} requests in flight"
    )
    for name in compiled.children():
        print(f"  {name}")

    images = np.random.default_rng(0).standard_normal((args.requests, 1, 3, 64, 64))
    answered = []
    queue = ov.AsyncInferQueue(compiled)
    queue.set_callback(lambda request, _: answered.append(request.executed_on))
    started = time.perf_counter()
    for image in images.astype(np.float32):
        queue.start_async({"input": image})
    queue.wait_all()
    elapsed = time.perf_counter() - started
    print(
        f"{len(answered)} of {args.requests} requests answered by {sorted(set(answered))} in "
        f"{elapsed:.2f} s ({args.requests / elapsed:.1f} inf/s)"
    )
    compiled.close()


if __name__ == "__main__":
    main()
