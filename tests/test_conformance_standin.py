"""The plugin conformance suite on STANDIN, the core's in-process stand-in device."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import ovlite as ov
from ovlite.testing import StandInDevice, StandInPlugin
from ovlite.testing.conformance import PluginConformance


class TestStandInConformance(PluginConformance):
    device = "STANDIN"
    supports_cancellation = True
    supports_profiling = True
    supports_throughput_streams = True
    supports_dynamic_shapes = True

    @pytest.fixture
    def core(self) -> ov.Core:
        core = ov.Core()
        core.register_plugin(StandInPlugin(StandInDevice()), name="standin")
        return core


# ---- the suite catches what it claims to catch -----------------------------------------------

BROKEN_DEVICES = """
import threading

import numpy as np
import pytest

import ovlite as ov
from ovlite.testing import StandInDevice, StandInPlugin
from ovlite.testing.conformance import PluginConformance
from ovlite.testing.standin import StandInCompiledModel


class RunsJobsInline(StandInCompiledModel):
    def submit(self, job):
        if job.begin():
            job.set_result(*self._executor.call(job.inputs))


class IgnoresBegin(StandInCompiledModel):
    def submit(self, job):
        context = self.device.make_context(self._model)
        threading.Thread(target=lambda: job.set_result(*self._run(context, job.inputs))).start()


class ReusesOutputBuffers(StandInCompiledModel):
    def _compute(self, evaluator, inputs, started):
        outputs, info = super()._compute(evaluator, inputs, started)
        buffers = self.__dict__.setdefault("buffers", [np.empty_like(o) for o in outputs])
        for buffer, output in zip(buffers, outputs):
            np.copyto(buffer, output)
        return list(buffers), info


class Broken(StandInDevice):
    def __init__(self, compiled_class):
        super().__init__("BROKEN")
        self.compiled_class = compiled_class

    def compile_model(self, model, spec, config, core):
        return self.compiled_class(self, model, spec.full_name, config)


class Base(PluginConformance):
    device = "BROKEN"
    timeout_s = 10
    compiled_class = None

    @pytest.fixture
    def core(self):
        core = ov.Core()
        core.register_plugin(StandInPlugin(Broken(self.compiled_class)), name="broken")
        return core


class TestRunsJobsInline(Base):
    compiled_class = RunsJobsInline


class TestIgnoresBegin(Base):
    compiled_class = IgnoresBegin


class TestReusesOutputBuffers(Base):
    compiled_class = ReusesOutputBuffers
"""


def test_the_suite_fails_broken_devices_and_names_unclaimed_features(tmp_path: Path) -> None:
    (tmp_path / "test_broken.py").write_text(BROKEN_DEVICES)
    selection = (
        "TestRunsJobsInline and runs_the_job_in_another_thread"
        " or TestIgnoresBegin and cancelled_before_submit"
        " or TestReusesOutputBuffers and (stay_valid or profiling or cancelling_a_queued)"
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rfs", "-p", "no:cacheprovider", "-k", selection],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    failed = set(re.findall(r"FAILED test_broken.py::(\w+::\w+)", result.stdout))
    assert failed == {
        "TestRunsJobsInline::test_submit_runs_the_job_in_another_thread",
        "TestIgnoresBegin::test_a_job_cancelled_before_submit_is_dropped_not_run",
        "TestReusesOutputBuffers::test_results_stay_valid_after_the_next_inference",
    }, result.stdout
    assert "BROKEN does not claim profiling (set supports_profiling = True" in result.stdout
    assert "BROKEN does not claim cancellation (set supports_cancellation = True" in result.stdout
