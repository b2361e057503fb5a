"""Supervising the replicas of a RAY compiled model: :class:`ReplicaSupervisor` takes a lost
replica out of the balancer's rotation, starts its replacement in the background and adds it
once ready, hands a ready one to a job every replica failed, and, once every replica is lost
and none could be started, adds a last child that fails the jobs still waiting."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ovlite import InferenceError, Model
from ovlite.plugin import CHILD_COMING, Child, CompiledModel, Job, LoadBalancer

from .replica import ReplicaHandle
from .replicas import ReplicaStarter

log = logging.getLogger("ovlite.ray")

#: Tries at replacing a lost replica before giving up on that slot.
REPLACE_ATTEMPTS = 3


class ReplicaSupervisor:
    """Watches one compiled model's replicas and replaces the lost ones.

    Shares the compiled model's lock (``state``) and reads its closed flag (``closed``) under
    it, so that no replacement starts, or joins the balancer, after ``close()``.  ``balancer``
    is set by the compiled model once it made the balancer over the children :meth:`adopt`
    returned.
    """

    def __init__(
        self,
        name: str,
        starter: ReplicaStarter,
        state: threading.Condition,
        closed: Callable[[], bool],
    ) -> None:
        self.name = name
        self._starter = starter
        self._state = state
        self._closed = closed
        self.balancer: LoadBalancer
        self._replacing = 0
        self._gave_up = False  # the stand-in that fails jobs once no replica is left is in
        self._ready: list[Child] = []
        #: every replica started for the model, lost ones included, and its balancer child
        self.children: dict[ReplicaHandle, Child] = {}

    def adopt(self, handles: list[ReplicaHandle]) -> list[Child]:
        """The balancer's children for the replicas started with the model, now watched."""
        for handle in handles:
            handle._on_lost = self._replica_lost
        return [self._child(handle) for handle in handles]

    def serving(self) -> list[ReplicaHandle]:
        """The replicas serving now (lost ones and those not started yet excluded)."""
        return [h for h, c in list(self.children.items()) if c.enabled and not h.lost]

    def _child(self, handle: ReplicaHandle) -> Child:
        child = Child(handle.device_name, handle, handle.capacity)
        self.children[handle] = child
        return child

    def _replica_lost(self, handle: ReplicaHandle, error: BaseException) -> None:
        """Stop feeding ``handle`` and start its replacement (runs before its jobs fail)."""
        child = self.children.get(handle)
        if child is None:
            return
        self.balancer.disable(child, f"{handle.describe()} died: {type(error).__name__}")
        handle.kill()  # if only its node or an object went, its resources go to the replacement
        with self._state:
            closed = self._closed()
            if not closed:
                self._replacing += 1
        if closed:  # no replacement after close(); jobs still waiting must not wait for ever
            self._give_up_if_none_left()
            return
        threading.Thread(target=self._replace, name=f"{self.name}-replace", daemon=True).start()

    def _replace(self) -> None:
        new: ReplicaHandle | None = None
        for attempt in range(1, REPLACE_ATTEMPTS + 1):
            try:
                new = self._starter.start(1, on_lost=self._replica_lost)[0]
                break
            except Exception as exc:
                log.warning(
                    "%s: replacing a lost replica failed (try %d): %s",
                    self.name,
                    attempt,
                    exc,
                )
                time.sleep(0.5 * attempt)
        with self._state:
            self._replacing -= 1
            closed = self._closed()
            if new is not None and not closed:
                self._ready.append(self._child(new))
            self._state.notify_all()
        if new is not None and closed:
            new.kill()
            self._give_up_if_none_left()
            return
        if new is not None:
            log.info("%s: %s replaces a lost replica", self.name, new.describe())
        self._attach_ready()
        if new is None:
            self._give_up_if_none_left()
            self.balancer.fail_stranded()  # jobs that waited for this replacement

    def _attach_ready(self) -> None:
        with self._state:
            ready, self._ready = self._ready, []
        for child in ready:
            self.balancer.add_child(child)

    def spare(self, failed: set[str]) -> Child | object | None:
        """A job failed on every replica: a replacement that is ready, else ``CHILD_COMING``
        while one is starting (the job waits in the queue for it; nothing blocks), else
        ``None`` (the job fails)."""
        with self._state:
            if self._ready:
                return self._ready.pop(0)
            return CHILD_COMING if self._replacing else None

    def _give_up_if_none_left(self) -> None:
        with self._state:
            if self._replacing or self.serving() or self._gave_up:
                return
            self._gave_up = True
        # jobs waiting for a free replica would wait for ever: a last child fails them
        self.balancer.add_child(
            Child(
                f"{self.name} (no replica left)",
                _NoReplica(self._starter.model, self.name),
                1 << 30,
            )
        )


class _NoReplica(CompiledModel):
    """Stands in once every replica is lost and none could be started: fails each job."""

    def __init__(self, model: Model, name: str) -> None:
        super().__init__(model, f"{name} (no replica left)", {})

    def submit(self, job: Job) -> None:
        job.refuse(
            InferenceError(f"{self.device_name}: every replica was lost and none could be started")
        )
