"""The "fastest child alone" probe: a placement policy the load balancer consults.

Two devices sharing the same cores can drag the total down: each slows the other, and the
slow one holds jobs the fast one would have finished sooner.  Once the children are kept
busy, the probe measures the total completion rate with every child, then with only the
fastest one, and stops feeding the others when that is faster.  It repeats every
``reprobe_seconds`` with every child back in, so a decision taken under passing load is undone
once it no longer holds.  A child the probe stopped feeding is logged and listed by
``OVLITE_DROPPED_DEVICES`` like one dropped for its failures.

The :class:`~ovlite.meta.scheduler.LoadBalancer` calls it at two points: after placing a job
(:meth:`PlacementProbe.note_placement`, how busy the children are kept) and after a job
completed (:meth:`PlacementProbe.after_completion`, which moves the probe on and switches
children on and off through the balancer).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Protocol

from .child import Child

log = logging.getLogger("ovlite.meta")

#: The probe keeps only the fastest child when that alone is this much faster than all.
PROBE_MARGIN = 1.03
#: Mean share of busy slots at which the children count as kept busy.
SATURATED = 0.75
#: Completions a probe window needs at least, besides its minimum duration.
PROBE_MIN_COMPLETIONS = 30


class Balancer(Protocol):
    """What the probe reads and calls on the load balancer that consults it."""

    name: str
    children: list[Child]
    #: jobs the balancer completed
    completed: int
    #: the shortest a measuring window lasts
    probe_seconds: float
    #: how long a decision holds before the next round measures again
    reprobe_seconds: float
    _lock: threading.Lock

    @property
    def capacity(self) -> int: ...

    def disable(self, child: Child, reason: str) -> None: ...

    def _changed(self) -> None: ...

    def _drain(self) -> None: ...


@dataclass
class PlacementProbe:
    """Measures whether the fastest child alone beats all children together."""

    phase: str = "warmup"  # warmup -> all -> best -> done -> (after a while) all -> ...
    next_round: float = 0.0
    started: float = 0.0
    completed_at_start: int = 0
    placements: int = 0
    occupancy: float = 0.0  # sum over placements of the share of slots busy right after it
    rate_all: float = 0.0
    kept: Child | None = None
    paused: list[Child] = field(default_factory=list)

    def after_completion(self, balancer: Balancer) -> None:
        """Move the probe on after ``balancer`` completed a job: start or end a measuring
        window, pause the slower children, or take them back for another round."""
        if self.phase == "done" and (not self.next_round or time.perf_counter() < self.next_round):
            return
        now = time.perf_counter()
        if self.phase == "done":  # another round, with the children the probe dropped
            with balancer._lock:
                for c in balancer.children:
                    if c.dropped_by_probe:
                        c.enabled, c.dropped_by_probe, c.dropped_reason = True, False, ""
                self._start_window(balancer, now, "all")
            balancer._changed()
            balancer._drain()
            return
        with balancer._lock:
            if self.phase == "warmup":
                if balancer.completed >= 2 * balancer.capacity:
                    self._start_window(balancer, now, "all")
                return
            elapsed = now - self.started
            done = balancer.completed - self.completed_at_start
            if elapsed < balancer.probe_seconds or done < PROBE_MIN_COMPLETIONS:
                return
            if self.occupancy < SATURATED * self.placements:
                # the children were not kept busy: rates say nothing about capacity; look again
                self._start_window(balancer, now, self.phase)
                return
            rate = done / elapsed
            if self.phase == "all":
                self.rate_all = rate
                rates = {
                    c: (c.completed - c.completed_at_mark) / elapsed
                    for c in balancer.children
                    if c.enabled
                }
                self.kept = max(rates, key=rates.__getitem__)
                self.paused = [c for c in rates if c is not self.kept]
                for c in self.paused:
                    c.enabled = False
                self._start_window(balancer, now, "best")
                return
            self.phase = "done"
            self.next_round = now + balancer.reprobe_seconds
            keep_best = rate > self.rate_all * PROBE_MARGIN
            for c in self.paused:
                c.enabled = not keep_best
                c.dropped_by_probe = keep_best
        if keep_best:
            for c in self.paused:
                balancer.disable(
                    c,
                    f"{self.kept.name} alone completed {rate:.1f}/s, all together "  # type: ignore[union-attr]
                    f"{self.rate_all:.1f}/s: they compete for the same resources",
                )
        else:
            log.debug(
                "%s: all devices together are faster (%.1f/s vs %.1f/s)",
                balancer.name,
                self.rate_all,
                rate,
            )
        balancer._drain()

    def note_placement(self, children: list[Child], waited: bool) -> None:
        """Track how busy the children are kept; the caller holds the balancer's lock."""
        if self.phase in ("all", "best"):
            self.placements += 1
            enabled = [c for c in children if c.enabled]
            busy = sum(min(c.busy, c.capacity) for c in enabled)
            self.occupancy += 1.0 if waited else busy / max(1, sum(c.capacity for c in enabled))

    def _start_window(self, balancer: Balancer, now: float, phase: str) -> None:
        self.phase = phase
        self.started = now
        self.completed_at_start = balancer.completed
        self.placements = 0
        self.occupancy = 0.0
        for child in balancer.children:
            child.completed_at_mark = child.completed
