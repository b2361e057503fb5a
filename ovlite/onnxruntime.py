"""Shared ONNX Runtime plumbing for ORT-backed devices and for HETERO.

- :func:`provider_availability`: whether this onnxruntime offers an execution provider;
- :func:`create_session`: a session over an ordered provider list, failures as
  :class:`~ovlite.errors.CompileError`;
- :func:`session_runner`: the hot-path ``run(session, inputs)`` a streams executor calls;
- :func:`node_placement`: which device ONNX Runtime's own partitioner gave each node of the
  original model (``Core.query_model`` and ``HETERO`` read it).

onnxruntime is imported inside these functions: ``import ovlite`` stays free of it.  Which
ONNX Runtime distribution is installed, and whether two clobber each other, is
:mod:`ovlite.onnxruntime_install`'s job.

How placements map back to the model's node names: ONNX Runtime (1.24 and later) records,
when the session option ``session.record_ep_graph_assignment_info`` is on, the nodes each
provider took at partitioning time, after its basic (level 1) graph rewrites.  Before
partitioning, every node without a name gets one (``<OpType>_<index>``, the key
``query_model`` reports it under), so unnamed nodes come back by name.  A node ONNX Runtime
fused with its neighbours is reported under the fused node's name, which it builds from
the first node's name (``mm/MatMulAddFusion``): the name up to a ``/`` that names a node
of the model (names may hold ``/`` themselves: ``/layer1/conv/Conv``) is the original node.
Nodes the optimizer removed (folded constants, eliminated ``Identity``/``Dropout``)
or merged into a fused node run as part of a neighbour, so they are reported on the device
of the nearest node that produces one of their inputs, else of the nearest node that
consumes one of their outputs, else on the last device in the list.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from .availability import Availability
from .element_type import Type
from .errors import CompileError
from .model import node_key
from .onnxruntime_words import word_runner

#: The session option that makes ONNX Runtime record which provider took which node.
RECORD_ASSIGNMENT = "session.record_ep_graph_assignment_info"
#: The provider ONNX Runtime always adds last to take whatever the others leave.
CPU_PROVIDER = "CPUExecutionProvider"

Provider = tuple[str, dict[str, str]]
#: Stands for ONNX Runtime's implicit CPU fallback in a placement; never reported.
_FALLBACK = ""

log = logging.getLogger("ovlite.onnxruntime")


def provider_availability(provider: str) -> Availability:
    """Available when onnxruntime imports and lists ``provider``; the reason says why not."""
    try:
        import onnxruntime as ort

        providers = ort.get_available_providers()
        version = ort.__version__
    except ImportError as exc:
        return Availability(
            False,
            f"onnxruntime is not installed or cannot be imported ({exc}); pip install onnxruntime",
        )
    except Exception as exc:  # a broken install can fail in many ways
        return Availability(False, f"onnxruntime is broken: {type(exc).__name__}: {exc}")
    if provider not in providers:
        return Availability(
            False,
            f"onnxruntime {version} has no {provider} (it offers {', '.join(providers) or 'none'})",
        )
    return Availability(True, f"onnxruntime {version}, {provider}")


def create_session(
    source: str | bytes, options: Any, providers: Sequence[Provider], what: str
) -> Any:
    """An ``InferenceSession`` over ``providers`` (in priority order), or
    :class:`CompileError` saying why not; ``what`` names the device and model in the error.

    The first provider must be among the session's providers: ONNX Runtime silently drops a
    provider it cannot create, and a device must not quietly run somewhere else.  The Python
    wrapper's own fallback is off for the same reason: it would retry a failing provider list
    on other providers without their options, and move a session to the CPU after a provider
    error at run time.
    """
    import onnxruntime as ort

    def create(model: str | bytes) -> Any:
        return ort.InferenceSession(
            model,
            options,
            providers=[name for name, _ in providers],
            provider_options=[dict(opts) for _, opts in providers],
            enable_fallback=0,
        )

    try:
        try:
            session = create(source)
        except Exception as exc:
            lowered = _with_readable_ir_version(source, str(exc))
            if lowered is None:
                raise
            session = create(lowered)
    except Exception as exc:
        raise CompileError(f"{what}: ONNX Runtime {ort.__version__} says: {exc}") from exc
    created = session.get_providers()
    missing = [name for name, _ in providers if name not in created]
    if missing:
        raise CompileError(
            f"{what}: ONNX Runtime created the session on {created}, without {missing}"
        )
    return session


_IR_TOO_NEW = re.compile(r"Unsupported model IR version: (\d+), max supported IR version: (\d+)")
#: Element types up to INT4 (22) exist since IR version 10; newer ones need a newer IR.
_TYPES_OF_IR_10 = 22


def _with_readable_ir_version(source: str | bytes, error: str) -> bytes | None:
    """The model with its IR version lowered to what this ONNX Runtime reads, when ``error``
    says the version is too new and the model uses nothing a lower version lacks.

    onnx writes its newest IR version by default, often newer than an installed ONNX Runtime
    reads although the model needs nothing new: lowering the number is then exact.
    """
    import onnx

    match = _IR_TOO_NEW.search(error)
    if match is None or not isinstance(source, bytes):
        return None
    given, readable = int(match.group(1)), int(match.group(2))
    proto = onnx.ModelProto.FromString(source)
    if readable < 10 or max(_element_types(proto.graph), default=0) > _TYPES_OF_IR_10:
        return None
    proto.ir_version = readable
    log.info("model IR version %d lowered to %d, which ONNX Runtime reads", given, readable)
    return proto.SerializeToString()


def _element_types(graph: Any) -> Iterator[int]:
    """Every element type a graph (and its subgraphs) declares or stores."""
    for value in (*graph.input, *graph.output, *graph.value_info):
        yield value.type.tensor_type.elem_type
    for tensor in graph.initializer:
        yield tensor.data_type
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.HasField("t"):
                yield attribute.t.data_type
            if attribute.HasField("g"):
                yield from _element_types(attribute.g)
            for subgraph in attribute.graphs:
                yield from _element_types(subgraph)


def session_runner(
    output_names: list[str],
    input_names: list[str],
    info: Any,
    input_types: Sequence[Type] | None = None,
    output_types: Sequence[Type] | None = None,
) -> Any:
    """``run(session, inputs) -> (outputs, info)`` for a streams executor.

    The hot path: one call into ONNX Runtime, nothing per call that can be avoided.  Pass
    the pybind session under ``InferenceSession._sess``: ovlite has checked the inputs
    already, so the wrapper's own input check would only cost time.  Every run passes one
    default ``RunOptions``, made once: given none, ONNX Runtime makes one per run, which
    costs about 1.4 us of a 7 us run (tiny MLP).  Runs only read it, so threads share it.

    Given the ports' element types, a model with a ``bf16`` (or f8) input or output gets
    :func:`~ovlite.onnxruntime_words.word_runner` instead, which feeds and fetches those
    as raw words; without them such a model's inputs reach ONNX Runtime as ``float16``.
    """
    words = word_runner(output_names, input_names, info, input_types, output_types)
    if words is not None:
        return words
    import onnxruntime as ort

    options = ort.RunOptions()
    if len(input_names) == 1:
        (only,) = input_names

        def run_one(session: Any, inputs: Sequence[np.ndarray]) -> tuple[list[np.ndarray], Any]:
            return session.run(output_names, {only: inputs[0]}, options), info

        return run_one

    def run(session: Any, inputs: Sequence[np.ndarray]) -> tuple[list[np.ndarray], Any]:
        feeds = dict(zip(input_names, inputs, strict=True))
        return session.run(output_names, feeds, options), info

    return run


def stoppable_session_runner(
    output_names: list[str],
    input_names: list[str],
    info: Any,
    input_types: Sequence[Type] | None = None,
    output_types: Sequence[Type] | None = None,
) -> Any:
    """``run_stoppable(session, inputs, stop)`` for a streams executor: as
    :func:`session_runner`, with a ``RunOptions`` of its own per run whose ``terminate``
    the timeout sets (``stop.on_stop``).  ONNX Runtime checks it before each node (inside
    ``Loop`` and ``Scan`` bodies too), so a stopped run raises after the node it is in;
    a provider that runs the whole model as one node (OpenVINO) is not stopped by it.

    A run's ``RunOptions`` serves a later run once the run ended unstopped (see
    :class:`_Terminator`): making one per run costs about 2 us of a 7 us tiny-MLP run.
    """
    import onnxruntime as ort

    run_options = ort.RunOptions
    unused: list[Any] = []  # RunOptions of runs that ended unstopped, for the next runs

    def arm(stop: Any) -> tuple[Any, _Terminator]:
        try:
            options = unused.pop()
        except IndexError:
            options = run_options()
            options.log_severity_level = 4  # a stopped run is not an error to log
        terminator = _Terminator(options)
        stop.on_stop(terminator)
        return options, terminator

    def release(options: Any, terminator: _Terminator) -> None:
        if terminator.disarm():
            unused.append(options)

    def options_for(stop: Any) -> Any:
        return arm(stop)[0]  # never released: used by one run only

    words = word_runner(output_names, input_names, info, input_types, output_types, options_for)
    if words is not None:
        return words
    if len(input_names) == 1:
        (only,) = input_names

        def run_one(session: Any, inputs: Sequence[np.ndarray], stop: Any) -> tuple[list, Any]:
            options, terminator = arm(stop)
            try:
                return session.run(output_names, {only: inputs[0]}, options), info
            finally:
                release(options, terminator)

        return run_one

    def run(session: Any, inputs: Sequence[np.ndarray], stop: Any) -> tuple[list, Any]:
        feeds = dict(zip(input_names, inputs, strict=True))
        options, terminator = arm(stop)
        try:
            return session.run(output_names, feeds, options), info
        finally:
            release(options, terminator)

    return run


_terminate_lock = threading.Lock()


class _Terminator:
    """What a timeout calls (``stop.on_stop``) to stop one run: it sets the run's
    ``RunOptions.terminate`` until the run is over and :meth:`disarm` was called, then does
    nothing.  A timeout that fires late (the watchdog may call it after the run returned)
    therefore never stops a later run that reuses the options."""

    __slots__ = ("options",)

    def __init__(self, options: Any) -> None:
        self.options: Any = options

    def __call__(self) -> None:
        with _terminate_lock:
            if self.options is not None:
                self.options.terminate = True

    def disarm(self) -> bool:
        """The run is over: later calls do nothing.  ``True`` when it was not stopped, so
        its options can serve another run."""
        with _terminate_lock:
            options, self.options = self.options, None
            return not options.terminate


# ---- node placement ------------------------------------------------------------------------


def with_node_names(proto: Any) -> Any:
    """A copy of ``proto`` whose unnamed nodes carry their :func:`node_key`."""
    named = type(proto)()
    named.CopyFrom(proto)
    for index, node in enumerate(named.graph.node):
        node.name = node_key(node, index)
    return named


def record_assignment(options: Any) -> Any:
    """Turn on ONNX Runtime's record of which provider took which node."""
    options.add_session_config_entry(RECORD_ASSIGNMENT, "1")
    return options


def assigned_providers(session: Any) -> dict[str, str]:
    """``{node name in the session's graph: provider}`` as ONNX Runtime partitioned it.

    The session must have been created with :func:`record_assignment` options.
    """
    import onnxruntime as ort

    if not hasattr(session, "get_provider_graph_assignment_info"):
        raise CompileError(
            f"onnxruntime {ort.__version__} cannot report which provider runs each node; "
            "query_model and HETERO need onnxruntime 1.24 or later"
        )
    return {
        node.name: subgraph.ep_name
        for subgraph in session.get_provider_graph_assignment_info()
        for node in subgraph.get_nodes()
    }


def node_placement(
    proto: Any, assigned: Mapping[str, str], devices: Mapping[str, str], last: str
) -> dict[str, str]:
    """``{original node name: device}`` from a session's :func:`assigned_providers`.

    ``proto`` is the model the session was built from (after :func:`with_node_names`),
    ``devices`` maps each provider to the device it stands for, and ``last`` is where a
    node goes when no neighbour tells (see the module docstring for the rules).
    """
    nodes = list(proto.graph.node)
    names = [node_key(node, i) for i, node in enumerate(nodes)]
    known = set(names)
    placed: dict[str, str] = {}
    for name, provider in assigned.items():
        original = name  # a fused node is "<first node>/<Fusion>": drop suffixes until known
        while original not in known and "/" in original:
            original = original.rsplit("/", 1)[0]
        if original in known and provider in devices:
            placed.setdefault(original, devices[provider])

    producer: dict[str, str] = {}
    for node, name in zip(nodes, names, strict=True):
        for output in node.output:
            producer[output] = name
    consumers: dict[str, list[str]] = {}
    for node, name in zip(nodes, names, strict=True):
        for tensor in node.input:
            consumers.setdefault(tensor, []).append(name)

    for node, name in zip(nodes, names, strict=True):  # topological order: producers first
        if name not in placed:
            found = [placed[producer[t]] for t in node.input if producer.get(t) in placed]
            if found:
                placed[name] = found[0]
    for node, name in zip(reversed(nodes), reversed(names), strict=True):
        if name not in placed:
            found = [placed[c] for t in node.output for c in consumers.get(t, ()) if c in placed]
            if found:
                placed[name] = found[0]
    return {name: placed.get(name, last) for name in names}


def query_session(proto: Any, providers: Sequence[Provider], what: str) -> Any:
    """A session over ``providers`` built only to read the partitioning; no threads to spare."""
    import onnxruntime as ort

    options = record_assignment(ort.SessionOptions())
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    return create_session(proto.SerializeToString(), options, providers, what)


def query_placement(
    proto: Any, providers: Sequence[Provider], devices: Sequence[str], what: str
) -> dict[str, str]:
    """Which of ``devices`` (one per provider, same order) ONNX Runtime gives each node.

    Nodes ONNX Runtime leaves to its implicit CPU fallback (when the CPU provider is not in
    the list) are left out, as OpenVINO's ``query_model`` leaves out unsupported operations.
    """
    named = with_node_names(proto)
    session = query_session(named, providers, what)
    by_provider = {name: device for (name, _), device in zip(providers, devices, strict=True)}
    by_provider.setdefault(CPU_PROVIDER, _FALLBACK)
    placement = node_placement(named, assigned_providers(session), by_provider, devices[-1])
    return {node: device for node, device in placement.items() if device != _FALLBACK}


__all__ = [
    "CPU_PROVIDER",
    "RECORD_ASSIGNMENT",
    "assigned_providers",
    "create_session",
    "node_placement",
    "provider_availability",
    "query_placement",
    "record_assignment",
    "session_runner",
    "with_node_names",
]
