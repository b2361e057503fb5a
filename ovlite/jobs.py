"""``Job``: one inference handed to a compiled model's ``submit``, finished exactly once.

The job is the whole plugin-side contract for running inferences.  A plugin's
``CompiledModel.submit(job)`` queues it and returns at once; whoever runs it calls
``job.begin()`` first (``False`` means it was cancelled: drop it), then exactly one of
``job.set_result(outputs)`` or ``job.set_error(exc)``.  The job then calls its ``on_done``
once.  Finishing a job twice is a plugin bug and raises :class:`PluginError`, so a result is
never delivered twice, and cancelling a job that has not begun finishes it with
:class:`RequestCancelledError` at once.  A job can also expire (``OVLITE_INFERENCE_TIMEOUT``):
it is finished with the timeout error while the device still runs it, and the device's late
result is then dropped without complaint.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .errors import PluginError, RequestCancelledError

PENDING, RUNNING, DONE, EXPIRED = 0, 1, 2, 3

# One lock for every job's state change: each change holds it for a few bytecodes, so a shared
# lock costs less than creating a lock per job on the hot path.
_state_lock = threading.Lock()


def _new_lock_after_fork() -> None:
    global _state_lock
    _state_lock = threading.Lock()  # another thread may have held it when the process forked


os.register_at_fork(after_in_child=_new_lock_after_fork)


class Job:
    """One inference: input arrays in the model's input order, and where to report the end.

    After ``on_done`` runs, exactly one of ``outputs`` (arrays in the model's output order) or
    ``error`` is set; ``info`` holds what the device reported about the run, such as
    ``{"device": "CPU", "profiling": [...]}``.
    """

    __slots__ = (
        "inputs",
        "on_done",
        "outputs",
        "error",
        "info",
        "watch_entry",
        "_state",
        "__weakref__",
    )

    def __init__(self, inputs: Sequence[np.ndarray], on_done: Callable[[Job], Any] | None) -> None:
        self.inputs = inputs
        self.on_done = on_done
        self.outputs: Sequence[np.ndarray] | None = None
        self.error: BaseException | None = None
        self.info: dict[str, Any] | None = None
        #: the watchdog's entry while a timeout watches the job (``OVLITE_INFERENCE_TIMEOUT``)
        self.watch_entry: Any = None
        self._state = PENDING

    @property
    def started(self) -> bool:
        """True once the job was claimed to run (or cancelled, or finished)."""
        return self._state != PENDING

    @property
    def done(self) -> bool:
        """True once the job finished (with a result, an error, cancelled or expired)."""
        return self._state >= DONE

    def begin(self) -> bool:
        """Claim the job to run it; ``False`` when it was cancelled (or already claimed)."""
        with _state_lock:
            if self._state != PENDING:
                return False
            self._state = RUNNING
            return True

    def set_result(self, outputs: Sequence[np.ndarray], info: dict[str, Any] | None = None) -> None:
        """Finish the job with its output arrays (in the model's output order)."""
        self._finish(outputs, None, info)

    def set_error(self, error: BaseException, info: dict[str, Any] | None = None) -> None:
        """Finish the job with an error; the caller that started it will see this error."""
        self._finish(None, error, info)

    def refuse(self, error: BaseException) -> bool:
        """Finish a job that will not run (its compiled model is closed, say) with ``error``:
        claims it with :meth:`begin`, so a job already cancelled (or expired, or claimed by
        someone else) is left alone.  ``True`` when this call finished the job."""
        if not self.begin():
            return False
        self.set_error(error)
        return True

    def reopen(self, on_done: Callable[[Job], Any] | None) -> BaseException:
        """Make a job that has just failed runnable again, before anybody saw the failure:
        a meta device that intercepted its child's error (by wrapping ``on_done``) runs the
        job elsewhere, and it finishes once more, reporting to ``on_done``.  Returns the
        error; raises :class:`PluginError` for a job that did not fail."""
        with _state_lock:
            if self._state != DONE or self.error is None:
                raise PluginError("only a job that has just failed can be reopened")
            self._state = RUNNING
        error, self.error, self.outputs, self.info = self.error, None, None, None
        self.on_done = on_done
        return error

    def cancel(self) -> bool:
        """Cancel the job if it has not begun; it then finishes with RequestCancelledError."""
        with _state_lock:
            if self._state != PENDING:
                return False
            self._state = RUNNING
        self._finish(None, RequestCancelledError("the inference was cancelled before it ran"), None)
        return True

    def expire(self, error: BaseException) -> bool:
        """Finish the job with ``error`` now, whether or not it runs; the device's later
        result is dropped.  ``False`` when the job had finished already."""
        with _state_lock:
            if self._state >= DONE:
                return False
            self._state = EXPIRED
        self._deliver(None, error, None)
        return True

    def _finish(
        self, outputs: Any, error: BaseException | None, info: dict[str, Any] | None
    ) -> None:
        with _state_lock:
            if self._state == EXPIRED:
                return  # the caller was told it timed out; this late result goes nowhere
            if self._state == DONE:
                raise PluginError("a job was finished twice; the second result was dropped")
            self._state = DONE
        self._deliver(outputs, error, info)

    def _deliver(
        self, outputs: Any, error: BaseException | None, info: dict[str, Any] | None
    ) -> None:
        self.outputs = outputs
        self.error = error
        self.info = info
        entry, self.watch_entry = self.watch_entry, None
        if entry is not None:
            entry.forget()
        on_done, self.on_done = self.on_done, None
        if on_done is not None:
            on_done(self)
