"""Load balancing over child compiled models: the scheduler behind MULTI and AUTO.

Each child has a number of slots (its ``OPTIMAL_NUMBER_OF_INFER_REQUESTS``, or the count in
``MULTI:GPU(4)``).  A job goes to the first enabled child in priority order with a free slot;
when none is free it waits in one shared FIFO that finishing slots drain.  A job that fails
on a child is retried on a child it has not tried yet (enabled ones first, then dropped or
spare ones); the caller sees an error only when every child failed it.  Each user job
finishes exactly once: the child runs its own job, and only the final outcome is passed on.

The balancer also guards against a child that drags the total down (two devices sharing the
same cores, say) through the "fastest child alone" probe, a placement policy in
``placement_probe.py`` that it tells about each placement and each completion.  A child that
fails several jobs in a row is dropped for good.  Both are logged, and listed by
``OVLITE_DROPPED_DEVICES``.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import DeviceClosedError, InferenceError, OvliteError, RequestCancelledError
from ..fork import reset_after_fork
from ..jobs import Job
from .child import Child
from .placement_probe import PlacementProbe

log = logging.getLogger("ovlite.meta")

#: Consecutive failures after which a child is no longer fed.
FAILURES_TO_DROP = 3
#: What a ``spare`` callback returns when a child is on its way (a replacement starting): the
#: job waits in the queue for it instead of failing, and nobody blocks meanwhile.  If the child
#: never comes, the callback's owner calls :meth:`LoadBalancer.fail_stranded`.
CHILD_COMING = object()


@dataclass(eq=False)
class _Attempt:
    """A user job and the children that failed it so far (by identity: ``MULTI:CPU,CPU``
    has two children of the same name)."""

    job: Job
    errors: dict[Child, BaseException] = field(default_factory=dict)
    started: bool = False


class LoadBalancer:
    """Schedules jobs over children; see the module docstring."""

    def __init__(
        self,
        children: list[Child],
        name: str,
        *,
        probe_seconds: float = 0.5,
        reprobe_seconds: float = 30.0,
        probe: bool = True,
        spare: Callable[[set[str]], Child | object | None] | None = None,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.children = list(children)
        self.name = name
        #: the shortest a window of the "fastest child alone" probe lasts
        self.probe_seconds = probe_seconds
        #: how long the probe's decision holds before it measures again
        self.reprobe_seconds = reprobe_seconds
        self.spare = spare
        self.on_change = on_change
        self._probe = PlacementProbe(phase="warmup" if probe and len(children) > 1 else "done")
        #: jobs completed, for the probe's rates
        self.completed = 0
        self._on_idle: Callable[[], None] | None = None  # set by close()
        self._children_closed = False
        self._start_afresh()
        reset_after_fork(self)

    def _start_afresh(self) -> None:
        """Nothing waiting, every slot free: at creation and in a forked child (the jobs in
        flight at the fork are the parent's)."""
        self._lock = threading.Lock()
        self._pending: collections.deque[_Attempt] = collections.deque()
        self._draining = threading.local()
        self._handing_over = 0  # jobs given a slot and not yet in their child's submit
        for child in self.children:
            child.busy = 0

    _after_fork = _start_afresh

    # ---- public ----------------------------------------------------------------------------

    @property
    def capacity(self) -> int:
        """Slots of the children that are fed, or may be again after the next probe."""
        return sum(c.capacity for c in self.children if c.enabled or c.dropped_by_probe) or 1

    def active_names(self) -> list[str]:
        return [c.name for c in self.children if c.enabled]

    def dropped(self) -> list[str]:
        return [f"{c.name}: {c.dropped_reason}" for c in self.children if c.dropped_reason]

    def submit(self, job: Job) -> None:
        """Place ``job``; it begins when a child takes it, so it can be cancelled (or expire)
        while it waits in the queue."""
        self._place(_Attempt(job), front=False)

    def close(self, close_children: Callable[[], None]) -> None:
        """Call ``close_children`` once no job waits for a slot any more: now, or when the
        last waiting job is dispatched.  Jobs that need a child after that (a retry, a
        submit that raced the close) fail with :class:`RequestCancelledError`."""
        with self._lock:
            if self._on_idle is not None or self._children_closed:
                return
            self._on_idle = close_children
        self._drain()

    def fail_stranded(self) -> None:
        """Fail the waiting jobs every child has failed: after ``spare`` answered
        ``CHILD_COMING`` for them and the child did not come after all."""
        with self._lock:
            stranded = [a for a in self._pending if a.errors and not self._can_ever_run(a)]
            for attempt in stranded:
                self._pending.remove(attempt)
        for attempt in stranded:
            self._fail_for_good(attempt)
        self._drain()  # the queue may be empty now: a pending close() can go ahead

    def add_child(self, child: Child, *, first: bool = False) -> None:
        """Add a child (AUTO's device once compiled); ``first`` puts it at top priority.
        After the children were closed, the newcomer is closed instead."""
        with self._lock:
            closed = self._children_closed
            if not closed:
                self.children.insert(0, child) if first else self.children.append(child)
        if closed:
            child.compiled.close()
            return
        self._changed()
        self._drain()

    def remove_child(self, child: Child) -> None:
        """Stop using ``child`` for good and close it (AUTO's losing candidates).  Jobs it
        runs now still finish; one that fails there is retried on the others."""
        with self._lock:
            if child in self.children:
                self.children.remove(child)
        child.compiled.close()
        self._changed()

    def take_over(
        self, job: Job, failed_on: Child | None = None, error: BaseException | None = None
    ) -> None:
        """Run ``job``, begun outside the balancer by a direct call to a child, on a child:
        after ``failed_on`` failed it with ``error`` (counted as that child's failure, and
        retried as any failure is), or, without ``failed_on``, after its child was closed
        because another replaced it."""
        attempt = _Attempt(job, started=True)
        if failed_on is None or error is None:
            self._place(attempt, front=True)
            return
        with self._lock:
            failed_on.failures_in_a_row += 1
        self._failed(failed_on, attempt, error)

    def disable(self, child: Child, reason: str) -> None:
        with self._lock:
            child.enabled = False
            child.dropped_reason = reason
        log.info("%s: stopped feeding %s: %s", self.name, child.name, reason)
        self._changed()

    # ---- scheduling ------------------------------------------------------------------------

    def _pick(self, attempt: _Attempt) -> Child | None:
        """A child with a free slot that has not failed this job; caller holds the lock."""
        for child in self.children:
            if child.enabled and child.busy < child.capacity and child not in attempt.errors:
                return child
        if attempt.errors:  # a retry may use children that are not fed new jobs
            for child in self.children:
                if (
                    not child.enabled
                    and child.busy < child.capacity
                    and child not in attempt.errors
                ):
                    return child
        return None

    def _can_ever_run(self, attempt: _Attempt) -> bool:
        return any(c not in attempt.errors for c in self.children)

    def _place(self, attempt: _Attempt, front: bool) -> None:
        with self._lock:
            if self._children_closed:
                child = None
            else:
                child = None if self._pending else self._pick(attempt)
                if child is None:
                    self._pending.appendleft(attempt) if front else self._pending.append(attempt)
                else:
                    child.busy += 1
                    self._handing_over += 1
                self._probe.note_placement(self.children, waited=child is None)
            closed = self._children_closed
        if closed:
            self._cancel(attempt)
        elif child is not None:
            self._dispatch(child, attempt)
        else:
            self._drain()

    def _start(self, child: Child, attempt: _Attempt) -> bool:
        """Begin the user's job on its first dispatch; a job cancelled or expired while it
        waited gives its slot back."""
        if attempt.started:
            return True
        attempt.started = True
        if attempt.job.begin():
            return True
        with self._lock:
            child.busy -= 1
        return False

    def _drain(self) -> None:
        """Move waiting jobs onto free slots, oldest first.

        A child that fails a job inside ``submit`` completes it synchronously, and that
        completion drains again; the nested call returns at once and this loop goes on, so
        the stack stays flat however many jobs wait."""
        if getattr(self._draining, "active", False):
            return
        self._draining.active = True
        try:
            while True:
                with self._lock:
                    found = None
                    for attempt in self._pending:
                        child = self._pick(attempt)
                        if child is not None:
                            found = (attempt, child)
                            break
                    if found is None:
                        on_idle = self._take_on_idle()
                        break
                    attempt, child = found
                    self._pending.remove(attempt)
                    child.busy += 1
                    self._handing_over += 1
                self._dispatch(child, attempt)
        finally:
            self._draining.active = False
        if on_idle is not None:
            on_idle()

    def _take_on_idle(self) -> Callable[[], None] | None:
        """After close(), the children's close once no job waits or is being handed to a
        child; caller holds the lock."""
        if self._on_idle is None or self._pending or self._handing_over:
            return None
        on_idle, self._on_idle = self._on_idle, None
        self._children_closed = True
        return on_idle

    def _cancel(self, attempt: _Attempt) -> None:
        error = DeviceClosedError(f"{self.name} was closed before the job could run")
        if attempt.errors:
            error.__cause__ = next(reversed(attempt.errors.values()))
        if attempt.started:  # a retry: the job is this balancer's already
            attempt.job.set_error(error)
        else:
            attempt.job.refuse(error)  # left alone when cancelled or expired already

    def _dispatch(self, child: Child, attempt: _Attempt) -> None:
        """Hand ``attempt`` to ``child``, which the caller gave a slot (``_handing_over``)."""
        try:
            if not self._start(child, attempt):
                self._drain()  # the slot is free again
                return
            child_job = Job(attempt.job.inputs, lambda done: self._finished(child, attempt, done))
            try:
                child.compiled.submit(child_job)
            except BaseException as exc:  # a child that cannot even queue the job fails it
                if not child_job.done:
                    child_job.set_error(exc)
        finally:
            with self._lock:
                self._handing_over -= 1
                on_idle = self._take_on_idle()
            if on_idle is not None:
                on_idle()

    def _finished(self, child: Child, attempt: _Attempt, child_job: Job) -> None:
        # a child that was closed (at interpreter exit, say) cancels: final, and no failure
        cancelled = isinstance(child_job.error, RequestCancelledError)
        with self._lock:
            child.busy -= 1
            if child_job.error is None:
                child.completed += 1
                child.failures_in_a_row = 0
                self.completed += 1
            elif not cancelled:
                child.failures_in_a_row += 1
        try:
            if child_job.error is None:
                info = dict(child_job.info or {})
                info.setdefault("device", child.name)
                attempt.job.set_result(child_job.outputs, info)
                self._probe.after_completion(self)
            elif cancelled:
                attempt.job.set_error(child_job.error)
            else:
                self._failed(child, attempt, child_job.error)
        finally:  # whatever a caller's completion raised, the freed slot must take the next job
            self._drain()

    def _failed(self, child: Child, attempt: _Attempt, error: BaseException) -> None:
        attempt.errors[child] = error
        log.debug("%s: a job failed on %s: %s", self.name, child.name, error)
        if (
            child.enabled
            and child.failures_in_a_row >= FAILURES_TO_DROP
            and self._others_enabled(child)
        ):
            self.disable(
                child, f"failed {child.failures_in_a_row} requests in a row; last: {error}"
            )
        coming = False
        if not self._can_ever_run(attempt) and self.spare is not None:
            spare = self.spare({c.name for c in attempt.errors})
            if isinstance(spare, Child):
                self.add_child(spare)
            coming = spare is CHILD_COMING  # then it waits in the queue; add_child() drains it
        if coming or self._can_ever_run(attempt):
            self._place(attempt, front=True)
            return
        self._fail_for_good(attempt)

    def _fail_for_good(self, attempt: _Attempt) -> None:
        attempt.job.set_error(self._final_error(attempt.errors))

    def _final_error(self, errors: dict[Child, BaseException]) -> InferenceError:
        details = "; ".join(f"{child.name}: {exc}" for child, exc in errors.items())
        final = InferenceError(f"{self.name}: every device failed the request ({details})")
        final.__cause__ = next(reversed(errors.values()))
        return final

    def run_here(self, inputs: Sequence[np.ndarray]) -> tuple[Sequence[np.ndarray], Any]:
        """Run one inference in the calling thread, on the first child that does not fail it
        (enabled children first).  For a sync call from a worker thread (a callback): going
        through the queue would wait for a child's worker, maybe the caller itself."""
        errors: dict[Child, BaseException] = {}
        for child in sorted(self.children, key=lambda c: not c.enabled):
            try:
                outputs, info = child.compiled.run(inputs)
            except RequestCancelledError:
                raise
            except OvliteError as exc:
                errors[child] = exc
                continue
            info = dict(info or {})
            info.setdefault("device", child.name)
            return outputs, info
        raise self._final_error(errors)

    def _others_enabled(self, child: Child) -> bool:
        return any(c.enabled and c is not child for c in self.children)

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()
