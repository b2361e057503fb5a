"""``Child``: one child compiled model of a load balancer, and the bookkeeping on it that the
balancer (slots, failures) and its placement probe (completions, pauses) keep."""

from __future__ import annotations

from dataclasses import dataclass

from ..device import CompiledModel


@dataclass(eq=False)
class Child:
    """One child compiled model and its bookkeeping."""

    name: str
    compiled: CompiledModel
    capacity: int
    enabled: bool = True
    busy: int = 0
    completed: int = 0
    failures_in_a_row: int = 0
    dropped_reason: str = ""
    dropped_by_probe: bool = False
    completed_at_mark: int = 0
