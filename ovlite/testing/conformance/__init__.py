"""The plugin conformance suite: plain pytest test classes that a plugin's tests subclass.

A plugin's test module names its device and states what it claims; nothing else is needed
(no conftest, no pytest plugin)::

    from ovlite.testing.conformance import PluginConformance

    class TestMyDevice(PluginConformance):
        device = "MYDEV"
        package = "ovlite-mydevice"          # the distribution get_versions should name
        supports_cancellation = True          # jobs wait in a queue, so cancel() can win
        supports_profiling = True             # PERF_COUNT gives request.profiling_info
        supports_throughput_streams = True    # NUM_STREAMS > 1 runs requests side by side
        supports_dynamic_shapes = True        # one compiled model, any batch size
        expected_differences = {              # inherited tests skipped, with the reason
            "test_latency_hint_runs_one_stream": "MYDEV always runs two streams",
        }

Results are compared with the ``onnx`` package's reference evaluator (the oracle), within
``rtol``/``atol``.  A test of a feature the class does not claim, or of a setting the device
does not take, is skipped with a reason that says so; no test depends on timings.  When the
device's plugin is missing or refused, one test
(``test_the_plugin_loads_and_provides_the_device``) fails with the registry's reason and the
others are skipped.

Fixtures a subclass may override: ``core`` (default ``ovlite.Core()``, which finds installed
plugins; override it to register an in-process plugin), ``model`` (default
``ovlite.models.tiny_mlp(batch=None)``), ``two_inputs_model`` (default
``ovlite.models.two_inputs()``) and ``reference`` (the oracle).  Class attributes:
``config`` (extra settings for every compile), ``rtol``, ``atol``, ``batch`` (the batch size
of generated inputs) and ``timeout_s`` (how long the suite waits before calling a lost job a
failure instead of hanging; not a performance limit).

The suite is split by area, one module each, so that a plugin may run only some of it:
:class:`PropertiesConformance`, :class:`InferenceConformance`, :class:`JobConformance`,
:class:`AsyncQueueConformance`, :class:`BadInputConformance`,
:class:`ConcurrencyConformance`, :class:`CancellationConformance`,
:class:`ProfilingConformance` and :class:`MetaDeviceConformance`;
:class:`PluginConformance` is all of them.  ``ovlite conformance DEVICE`` runs it on an
installed device (:mod:`ovlite.testing.conformance.runner`).
"""

from __future__ import annotations

from .async_queue import AsyncQueueConformance
from .bad_input import BadInputConformance
from .base import CLAIMS, ConformanceBase
from .cancellation import CancellationConformance
from .concurrency import ConcurrencyConformance
from .differences import ExpectedDifferenceError
from .inference import InferenceConformance
from .jobs import JobConformance
from .meta_devices import MetaDeviceConformance
from .oracle import ReferenceOracle
from .profiling import ProfilingConformance
from .properties import REQUIRED_COMPILED_PROPERTIES, PropertiesConformance


# pytest collects a class's bases last to first: listed in reverse, the areas run from
# properties (is the device there at all?) to meta devices.
class PluginConformance(
    MetaDeviceConformance,
    ProfilingConformance,
    CancellationConformance,
    ConcurrencyConformance,
    BadInputConformance,
    AsyncQueueConformance,
    JobConformance,
    InferenceConformance,
    PropertiesConformance,
):
    """The whole conformance suite; subclass it as ``TestMyDevice`` and set ``device``."""


__all__ = [
    "CLAIMS",
    "REQUIRED_COMPILED_PROPERTIES",
    "AsyncQueueConformance",
    "BadInputConformance",
    "CancellationConformance",
    "ConcurrencyConformance",
    "ConformanceBase",
    "ExpectedDifferenceError",
    "InferenceConformance",
    "JobConformance",
    "MetaDeviceConformance",
    "PluginConformance",
    "ProfilingConformance",
    "PropertiesConformance",
    "ReferenceOracle",
]
