"""Would ONNX Runtime's own ``run_async`` make a better CPU submit path?  A measured answer.

``InferenceSession.run_async(output_names, feeds, callback, user_data, run_options)`` runs
the inference on a thread of the session's intra-op pool and calls ``callback(outputs,
user_data, error_text)`` from that C++ thread, holding the GIL.  It needs a pool with a
thread of its own (``intra_op_num_threads >= 2``; with 1 it raises INVALID_ARGUMENT).

This script times, in interleaved rounds on one model (batch 1):

* ``raw session.run``: one thread calling run (intra-op threads 1), the baseline;
* ``AsyncInferQueue``: ovlite's queue on the CPU device under THROUGHPUT, as shipped;
* ``AsyncInferQueue over run_async``: the same queue whose device submit is replaced by
  :class:`RunAsyncSubmit` below (one session of 2 intra-op threads per stream, spinning
  off), a prototype of what the CPU plugin would do;
* ``raw run_async``: run_async alone, ``streams`` sessions kept busy, no ovlite.

Usage::

    python benchmarks/hot_path_run_async.py [--model tiny_mlp|resnet18] [--calls N] [--rounds 5]
"""

from __future__ import annotations

import argparse
import collections
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import ovlite
from ovlite.errors import InferenceError
from ovlite.models import BUILTIN


class RunAsyncSubmit:
    """A device submit on ``run_async``: a job takes a free session at once or waits in a
    queue; the callback that ends a run starts the next queued job on its session before it
    finishes its own job (no Python worker thread at all)."""

    def __init__(self, sessions: list[Any], outputs: list[str], inputs: list[str]) -> None:
        self.idle, self.pending = list(sessions), collections.deque()
        self.lock = threading.Lock()
        self.outputs, self.inputs, self.info = outputs, inputs, {"device": "CPU"}

    def submit(self, job: Any) -> None:
        with self.lock:
            if not self.idle:
                self.pending.append(job)
                return
            session = self.idle.pop()
        self.launch(session, job)

    def launch(self, session: Any, job: Any) -> None:
        while not job.begin():  # cancelled: take the next one
            with self.lock:
                if not self.pending:
                    self.idle.append(session)
                    return
                job = self.pending.popleft()
        feeds = dict(zip(self.inputs, job.inputs, strict=True))
        session.run_async(self.outputs, feeds, self.done, (session, job), None)

    def done(self, outputs: list[np.ndarray], user_data: Any, error: str) -> None:
        # an exception escaping here is swallowed by ONNX Runtime: nothing may raise
        try:
            session, job = user_data
            with self.lock:
                following = self.pending.popleft() if self.pending else None
                if following is None:
                    self.idle.append(session)
            if following is not None:
                self.launch(session, following)
            if error:
                job.set_error(InferenceError(error))
            else:
                job.set_result(outputs, self.info)
        except BaseException:
            import traceback

            traceback.print_exc()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="tiny_mlp", choices=["tiny_mlp", "resnet18"])
    parser.add_argument("--calls", type=int, default=0, help="default: 3000 tiny, 60 resnet18")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    calls = args.calls or (3000 if args.model == "tiny_mlp" else 60)

    import onnxruntime as ort

    proto = BUILTIN[args.model]()
    core = ovlite.Core()
    model = core.read_model(proto)
    name = model.inputs[0].any_name
    shape = [1, 16] if args.model == "tiny_mlp" else [1, 3, 224, 224]
    x = np.random.default_rng(0).standard_normal(shape, dtype=np.float32)
    outputs = [port.any_name for port in model.outputs]
    shipped = core.compile_model(model, "CPU", {"PERFORMANCE_HINT": "THROUGHPUT"})
    prototype = core.compile_model(model, "CPU", {"PERFORMANCE_HINT": "THROUGHPUT"})
    streams = shipped.get_property("NUM_STREAMS")

    def session(threads: int) -> Any:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return ort.InferenceSession(proto.SerializeToString(), options, ["CPUExecutionProvider"])

    pool = [session(2)._sess for _ in range(streams)]
    prototype._submit = RunAsyncSubmit(pool, outputs, [name]).submit
    raw = session(1)._sess

    def raw_run() -> float:
        started = time.perf_counter()
        for _ in range(calls):
            raw.run(outputs, {name: x}, None)
        return (time.perf_counter() - started) / calls * 1e6

    def queue(compiled: ovlite.CompiledModel) -> float:
        jobs = ovlite.AsyncInferQueue(compiled)
        jobs.set_callback(lambda request, userdata: None)
        started = time.perf_counter()
        for _ in range(calls):
            jobs.start_async({name: x})
        jobs.wait_all()
        return (time.perf_counter() - started) / calls * 1e6

    def raw_run_async() -> float:
        free = threading.Semaphore(len(pool))
        idle = collections.deque(pool)

        def done(outputs: Any, session: Any, error: str) -> None:
            idle.append(session)
            free.release()

        started = time.perf_counter()
        for _ in range(calls):
            free.acquire()
            session = idle.popleft()
            session.run_async(outputs, {name: x}, done, session, None)
        for _ in pool:
            free.acquire()
        return (time.perf_counter() - started) / calls * 1e6

    cases: dict[str, Callable[[], float]] = {
        "raw session.run": raw_run,
        "AsyncInferQueue": lambda: queue(shipped),
        "AsyncInferQueue over run_async": lambda: queue(prototype),
        "raw run_async": raw_run_async,
    }
    for case in cases.values():
        case()
    results: dict[str, list[float]] = {case: [] for case in cases}
    for _ in range(args.rounds):
        for case, measure in cases.items():
            results[case].append(measure())
    print(
        f"{args.model}, batch 1, THROUGHPUT: {streams} streams; onnxruntime {ort.__version__}; "
        f"median of {args.rounds} rounds of {calls} calls"
    )
    for case, values in results.items():
        median = statistics.median(values)
        runs = " ".join(f"{v:.1f}" for v in values)
        print(f"  {case:32s} {median:10.1f} us/inference {1e6 / median:8.0f}/s   runs: {runs}")


if __name__ == "__main__":
    main()
