"""Opportunistic batching for a :class:`~ovlite.streams.StreamsExecutor`.

A worker that takes a job also takes the jobs queued behind it that stack with it (the same
element types and the same shapes past dim 0), up to a number of rows, and runs them as one
inference, their inputs concatenated along dim 0; each job then gets its rows of every output
(views of the batch's output arrays).  Nothing waits for a
batch to fill: batches form only from jobs that queued while every stream was busy, so a
request that finds a stream free runs alone, exactly as without batching.  The first queued
job that does not stack ends the batch and is held by that worker for its next one, so it
waits for one batch at most (the batches are of models that run in microseconds).

This pays where a model runs in microseconds: handing each inference between Python threads
costs more than the inference itself, and one hand-off per batch instead of one per job is
what lets the asynchronous API keep up with a plain ``session.run`` loop.  A plugin turns it
on by giving its executor a :class:`StreamBatching`, for a model whose rows are independent
(check it: :func:`ovlite.meta.batch_plan.plan_batching` for the shapes, a probe run for the
values).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from .jobs import Job

#: What :func:`stack_key` gives a job that must run alone.
ALONE = None


@dataclasses.dataclass(frozen=True)
class StreamBatching:
    """Opportunistic batching: queued jobs are stacked into one run of at most ``max_rows``
    rows (dim 0) in all; a job with more rows than that runs alone."""

    max_rows: int

    def __post_init__(self) -> None:
        if self.max_rows < 2:
            raise ValueError(f"StreamBatching needs max_rows >= 2, not {self.max_rows}")


def stack_key(job: Job) -> tuple[Any, ...] | None:
    """What must match for two jobs to stack (each input's element type and shape past dim
    0), or :data:`ALONE`: a job under a timeout (its run must be stoppable on its own), an
    input that is not a numpy array or is a scalar, or inputs that disagree on dim 0."""
    if job.watch_entry is not None:
        return ALONE
    key = []
    rows = -1
    for array in job.inputs:
        if type(array) is not np.ndarray or not array.ndim:
            return ALONE
        if rows < 0:
            rows = array.shape[0]
        elif array.shape[0] != rows:
            return ALONE
        key.append((array.dtype, array.shape[1:]))
    return tuple(key) if key else ALONE


def rows_of(job: Job) -> int:
    """The job's rows (dim 0 of its inputs); call only for a job :func:`stack_key` stacks."""
    return job.inputs[0].shape[0]


def stack_inputs(jobs: Sequence[Job]) -> list[np.ndarray]:
    """The jobs' inputs concatenated along dim 0, one array per model input."""
    return [np.concatenate(column) for column in zip(*(job.inputs for job in jobs), strict=True)]


def split_outputs(
    outputs: Sequence[np.ndarray], jobs: Sequence[Job]
) -> list[list[np.ndarray]] | None:
    """Each job's rows of every output (views), or ``None`` when an output's dim 0 is not
    the batch (the jobs must then run one by one)."""
    rows = [rows_of(job) for job in jobs]
    total = sum(rows)
    for output in outputs:
        if getattr(output, "ndim", 0) == 0 or output.shape[0] != total:
            return None
    parts: list[list[np.ndarray]] = []
    start = 0
    for count in rows:
        stop = start + count
        parts.append([output[start:stop] for output in outputs])
        start = stop
    return parts


__all__ = ["ALONE", "StreamBatching", "rows_of", "split_outputs", "stack_inputs", "stack_key"]
