"""Per-request node timings (``PERF_COUNT``) from ONNX Runtime's profiler.

ONNX Runtime's Python API profiles a whole session: ``SessionOptions.enable_profiling``
starts recording when the session is created and ``end_profiling()`` writes every event to a
JSON trace and stops recording for good; there is no way to restart it, nor to read events
of one run (run-level profiling exists in the C API but is not exposed to Python).  So a
profiled stream runs each inference on a session that has run nothing else, ends its
profiling, reads the trace's ``kernel_time`` events (one per node: name, operator, provider,
duration) and replaces the session with a fresh one for the next inference.  Fresh sessions
are cheap here because they load the already optimized graph with optimizations off and take
the shared weights (a few milliseconds for ResNet-18); that is the cost of ``PERF_COUNT``,
paid on every inference.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from typing import Any

from ovlite import ProfilingInfo

_KERNEL_SUFFIX = "_kernel_time"

#: ``factory(profile_file_prefix)`` creates a session that profiles into that prefix.
SessionFactory = Callable[[str], Any]


def parse_trace(path: str | os.PathLike) -> list[ProfilingInfo]:
    """The node timings in an ONNX Runtime profiling trace, in execution order.

    ONNX Runtime reports wall time per node only, so ``cpu_time`` repeats ``real_time``.
    """
    with open(path) as handle:
        events = json.load(handle)
    nodes = []
    for event in events:
        name = event.get("name", "")
        if event.get("cat") != "Node" or not name.endswith(_KERNEL_SUFFIX):
            continue
        args = event.get("args", {})
        duration = float(event.get("dur", 0))
        nodes.append(
            (
                event.get("ts", 0),
                ProfilingInfo(
                    node_name=name[: -len(_KERNEL_SUFFIX)],
                    node_type=args.get("op_name", ""),
                    real_time=duration,
                    cpu_time=duration,
                    exec_type=args.get("provider", ""),
                ),
            )
        )
    nodes.sort(key=lambda item: item[0])
    return [info for _, info in nodes]


class ProfiledStream:
    """A stream whose session is replaced after every run to collect that run's timings."""

    def __init__(self, factory: SessionFactory, folder: str, index: int) -> None:
        self._factory = factory
        self._folder = folder
        self._index = index
        self._generation = 0
        self.session = self._new_session()

    def _new_session(self) -> Any:
        self._generation += 1
        prefix = os.path.join(self._folder, f"stream{self._index}-{self._generation}")
        return self._factory(prefix)

    def run(self, run: Any, inputs: Sequence[Any]) -> tuple[Sequence[Any], list[ProfilingInfo]]:
        """Run once with ``run(session, inputs) -> (outputs, info)`` (a session runner);
        return the outputs and the node timings of this run."""
        session = self.session
        try:
            # the pybind session under the wrapper, as on the fast path: ovlite has checked
            # the inputs, and the wrapper's check would refuse graph inputs that the
            # optimizer left without consumers
            outputs, _ = run(getattr(session, "_sess", session), inputs)
        except BaseException:
            _remove(self._replace(session))
            raise
        trace = self._replace(session)
        try:
            return outputs, parse_trace(trace) if trace else []
        finally:
            _remove(trace)

    def _replace(self, session: Any) -> str:
        """End ``session``'s profiling (returning its trace file) and start a fresh session."""
        trace = session.end_profiling()
        self.session = self._new_session()
        return trace


def _remove(path: str) -> None:
    if path:
        try:
            os.remove(path)
        except OSError:
            pass
