"""Run one benchmark configuration in a fresh child process.

The openvino configurations run this way.  openvino's Python API can deadlock when a compiled
model that served an ``AsyncInferQueue`` with a Python callback is destroyed: the main thread,
holding the GIL, sits in ``~CompiledModel`` -> ``~CPUStreamsExecutor`` -> ``thread::join`` while
the stream thread it joins waits in ``PyEval_AcquireThread`` for that GIL.  With openvino
2026.4.1 this hung most full runs here, always after a THROUGHPUT configuration; the same
stack is reported in ultralytics/ultralytics#25923.  A child process sends its result back,
keeps its openvino objects alive (:func:`keep_alive`) and leaves with ``os._exit``, so nothing
is ever destroyed.  It also keeps openvino's thread pools out of the process that measures
ONNX Runtime and ovlite.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable
from typing import Any

_KEPT: list[Any] = []
JOIN_TIMEOUT_S = 10.0


def keep_alive(*objects: Any) -> None:
    """Never destroy ``objects`` (the child process exits without tearing anything down)."""
    _KEPT.extend(objects)


def run_in_child(function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)`` in a spawned process; returns its result or raises its error.

    ``function`` and ``args`` must pickle (a module-level function, plain data).
    """
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child_main, args=(sender, function, args), daemon=True)
    child.start()
    sender.close()
    try:
        succeeded, value = receiver.recv()
    except EOFError:
        child.join(JOIN_TIMEOUT_S)
        raise RuntimeError(f"the child process died (exit code {child.exitcode})") from None
    finally:
        receiver.close()
    child.join(JOIN_TIMEOUT_S)
    if child.is_alive():
        child.kill()
    if not succeeded:
        raise value
    return value


def _child_main(sender: Any, function: Callable[..., Any], args: tuple) -> None:
    try:
        message = (True, function(*args))
    except Exception as exc:
        message = (False, exc if _pickles(exc) else RuntimeError(f"{type(exc).__name__}: {exc}"))
    sender.send(message)
    sender.close()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # skip interpreter teardown: see the module docstring


def _pickles(exc: BaseException) -> bool:
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return False
    return True
