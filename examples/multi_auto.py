"""MULTI and AUTO: let ovlite pick a device, or spread requests over several.

    python examples/multi_auto.py                  # AUTO, then MULTI over what is installed
    python examples/multi_auto.py -d MULTI:GPU,CPU

It prints which device AUTO chose by measurement and why, and how MULTI shared the requests.
"""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np

import ovlite as ov
import ovlite.properties as props
from ovlite import models


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-d", "--device", help="a MULTI device string (default: every device)")
    parser.add_argument("-n", "--requests", type=int, default=200)
    args = parser.parse_args()

    core = ov.Core()
    model = core.read_model(models.resnet18(batch=1, image_size=64))
    image = np.random.default_rng(0).standard_normal((1, 3, 64, 64)).astype(np.float32)

    # AUTO serves at once from the quickest device to compile, times every candidate on the
    # model in the background, then serves from the fastest (and remembers the choice)
    auto = core.compile_model(model, "AUTO", {props.hint.performance_mode: "LATENCY"})
    print("AUTO serves first from:", auto.get_property(props.execution_devices))
    auto({"input": image})
    auto.wait_until_ready()  # optional: requests are served meanwhile
    print(
        "AUTO chose:",
        auto.get_property(props.execution_devices),
        "at precision",
        auto.get_property(props.hint.inference_precision),
    )
    print("  why:", auto.get_property(props.configuration_reason))

    device = args.device or "MULTI:" + ",".join(core.available_devices)
    multi = core.compile_model(model, device, {props.hint.performance_mode: "THROUGHPUT"})
    print(
        f"{device}: {multi.get_property(props.optimal_number_of_infer_requests)} requests in flight"
    )
    for name, child in multi.children().items():
        print(f"  {name}: {child.get_property(props.optimal_number_of_infer_requests)} requests")

    served_by: Counter[str] = Counter()
    queue = ov.AsyncInferQueue(multi)
    queue.set_callback(lambda request, _: served_by.update([request.executed_on]))
    for _ in range(args.requests):
        queue.start_async({"input": image})
    queue.wait_all()
    for name, count in served_by.most_common():
        print(f"  {name} ran {count} of {args.requests} requests")
    dropped = multi.get_property(props.dropped_devices)
    if dropped:
        print("  MULTI stopped feeding:", "; ".join(dropped))


if __name__ == "__main__":
    main()
