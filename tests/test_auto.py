"""AUTO chooses by measurement: simulated candidates of known speed, precision and accuracy,
the decision cache, and a real run on OPENVINO.CPU beside CPU."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

import ovlite as ov
import ovlite.properties as props
from ovlite import models
from ovlite.meta.auto_measure import calibration_inputs
from ovlite.testing import SimulatedDevice, StandInPlugin

MLP = ov.read_model(models.tiny_mlp(batch=1))
#: Short measurements keep the tests quick; the simulated speeds differ by far more than the
#: noise of a 150 ms window.
QUICK = {"OVLITE_AUTO_MEASURE_MS": 150}


def x(i: float = 1.0, bad: bool = False) -> np.ndarray:
    data = np.full((1, 16), i / 64.0, dtype=np.float32)
    data[0, 1] = -1.0 if bad else 1.0
    return data


def make_core(*devices: SimulatedDevice) -> ov.Core:
    core = ov.Core()
    core.register_plugin(StandInPlugin(*devices), name="simulated")
    return core


def settled(compiled: ov.CompiledModel, inputs: dict | None = None) -> ov.CompiledModel:
    """The model once AUTO has chosen.  AUTO lets the first request finish before it compiles
    and times the others (or waits FIRST_REQUEST_WAIT_S): one request here starts it."""
    compiled(inputs if inputs is not None else {"x": x()})
    assert compiled.wait_until_ready(timeout=60)
    return compiled


def verdicts(compiled: ov.CompiledModel) -> dict[str, dict]:
    return {m["device"]: m for m in compiled.get_property(props.intel_auto.measurements)}


def reference_outputs(inputs: dict[str, np.ndarray]) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(MLP.to_bytes(), providers=["CPUExecutionProvider"])
    return session.run(None, inputs)[0]


# ---- choosing --------------------------------------------------------------------------------


@pytest.mark.parametrize("hint", ["LATENCY", "THROUGHPUT"])
def test_the_faster_device_wins_and_the_slower_is_freed(hint: str) -> None:
    slow = SimulatedDevice("SIMSLOW", delay_ms=15, quick_compile=True, priority=100)
    fast = SimulatedDevice("SIMFAST", delay_ms=1)
    core = make_core(slow, fast)
    compiled = core.compile_model(MLP, "AUTO:SIMSLOW,SIMFAST", {"PERFORMANCE_HINT": hint, **QUICK})
    request = compiled.create_infer_request()
    request.infer({"x": x()})  # served at once, by the quick device
    assert request.executed_on == "SIMSLOW"
    settled(compiled)
    assert compiled.get_property(props.execution_devices) == ["SIMFAST"]
    request.infer({"x": x()})
    assert request.executed_on == "SIMFAST"
    found = verdicts(compiled)
    assert found["SIMFAST"]["verdict"].startswith("chosen")
    assert found["SIMSLOW"]["verdict"].startswith("slower")
    figure = "throughput" if hint == "THROUGHPUT" else "latency_ms"
    assert found["SIMFAST"][figure] and found["SIMSLOW"][figure]
    reason = compiled.get_property(props.configuration_reason)
    assert "chose SIMFAST (measured)" in reason and "SIMSLOW" in reason
    assert list(compiled.device_model.children()) == ["SIMFAST"]  # the loser was closed and let go


def test_a_candidate_that_fails_is_not_chosen_and_says_why() -> None:
    broken = SimulatedDevice("SIMBROKEN", fail_when=lambda inputs: True)
    slow = SimulatedDevice("SIMSLOW", delay_ms=5, quick_compile=True)
    core = make_core(broken, slow)
    compiled = settled(core.compile_model(MLP, "AUTO:SIMBROKEN,SIMSLOW", QUICK))
    assert compiled.get_property(props.execution_devices) == ["SIMSLOW"]
    assert "injected failure" in verdicts(compiled)["SIMBROKEN"]["verdict"]


def test_a_candidate_that_cannot_compile_is_skipped_with_the_reason() -> None:
    core = make_core(
        SimulatedDevice("SIMNOCOMPILE", compile_error="unsupported operator Foo"),
        SimulatedDevice("SIMCPU", quick_compile=True),
    )
    compiled = settled(core.compile_model(MLP, "AUTO:SIMNOCOMPILE,SIMCPU", QUICK))
    assert compiled.get_property(props.execution_devices) == ["SIMCPU"]
    assert "unsupported operator Foo" in compiled.get_property(props.configuration_reason)


def test_a_slow_compiling_faster_device_takes_over_once_compiled() -> None:
    accelerator = SimulatedDevice("SIMGPU", compile_delay_ms=800, priority=100)
    cpu = SimulatedDevice("SIMCPU", delay_ms=15, quick_compile=True)
    core = make_core(accelerator, cpu)
    compiled = core.compile_model(MLP, "AUTO:SIMGPU,SIMCPU", QUICK)
    assert compiled.get_property(props.execution_devices) == ["SIMCPU"]
    assert "still choosing" in compiled.get_property(props.configuration_reason)
    answer = compiled({"x": x(3)})[0]
    settled(compiled)
    assert compiled.get_property(props.execution_devices) == ["SIMGPU"]
    np.testing.assert_allclose(compiled({"x": x(3)})[0], answer, rtol=1e-6)
    assert verdicts(compiled)["SIMGPU"]["compile_ms"] >= 800


def test_equally_fast_candidates_keep_the_one_serving() -> None:
    first = SimulatedDevice("SIMA", delay_ms=20, priority=100)
    serving = SimulatedDevice("SIMB", delay_ms=20, quick_compile=True)
    core = make_core(first, serving)
    compiled = settled(core.compile_model(MLP, "AUTO:SIMA,SIMB", QUICK))
    assert compiled.get_property(props.execution_devices) == ["SIMB"]
    found = verdicts(compiled)
    assert (
        "quicker to serve" in found["SIMA"]["verdict"]
        or "quicker to serve" in (found["SIMB"]["verdict"])
    )


def test_without_startup_fallback_compile_returns_with_the_choice_made() -> None:
    core = make_core(
        SimulatedDevice("SIMSLOW", delay_ms=15, quick_compile=True, priority=100),
        SimulatedDevice("SIMFAST"),
    )
    compiled = core.compile_model(
        MLP, "AUTO:SIMSLOW,SIMFAST", {"ENABLE_STARTUP_FALLBACK": False, **QUICK}
    )
    assert compiled.get_property(props.execution_devices) == ["SIMFAST"]
    assert len(compiled.get_property(props.intel_auto.measurements)) == 2


def test_a_model_with_dynamic_sizes_calibrates_on_the_first_request() -> None:
    dynamic = ov.read_model(models.tiny_mlp(batch=None))
    dynamic.reshape([-1, -1])  # a dynamic feature size: no size can be made up for it
    assert calibration_inputs(dynamic.inputs) is None
    core = make_core(
        SimulatedDevice("SIMSLOW", delay_ms=10, quick_compile=True), SimulatedDevice("SIMFAST")
    )
    compiled = core.compile_model(dynamic, "AUTO:SIMSLOW,SIMFAST", QUICK)
    assert "waits for the first request" in compiled.get_property(props.configuration_reason)
    assert not compiled.wait_until_ready(timeout=0.2)
    compiled({"x": x()})
    settled(compiled)
    assert compiled.get_property(props.execution_devices) == ["SIMFAST"]


def test_when_made_up_inputs_fail_everywhere_the_first_request_calibrates() -> None:
    def made_up(inputs) -> bool:  # noqa: ANN001
        return bool(inputs[0][0, 1] != 1.0)  # the user's inputs carry 1.0 there (see x())

    core = make_core(
        SimulatedDevice("SIMSLOW", delay_ms=10, quick_compile=True, fail_when=made_up),
        SimulatedDevice("SIMFAST", fail_when=made_up),
    )
    compiled = core.compile_model(MLP, "AUTO:SIMSLOW,SIMFAST", QUICK)
    compiled({"x": x()})  # lets the measurement start; it fails on the made-up inputs
    for _ in range(600):  # then waits for a request (up to 60 s on a loaded machine)
        if "waits for the first request" in compiled.get_property(props.configuration_reason):
            break
        threading.Event().wait(0.1)
    compiled({"x": x(2)})
    settled(compiled)
    assert compiled.get_property(props.execution_devices) == ["SIMFAST"]
    assert all(not m["error"] for m in verdicts(compiled).values())


# ---- precision and accuracy -----------------------------------------------------------------


def bf16_core(error: float = 0.5) -> ov.Core:
    return make_core(
        SimulatedDevice("SIMCPU", delay_ms=10, quick_compile=True),
        SimulatedDevice("SIMBF16", reduced_precision="bf16", reduced_precision_error=error),
    )


def test_performance_mode_lets_a_device_run_its_reduced_precision_and_reports_the_gap() -> None:
    compiled = settled(bf16_core().compile_model(MLP, "AUTO:SIMCPU,SIMBF16", QUICK))
    assert compiled.get_property(props.execution_devices) == ["SIMBF16"]
    assert str(compiled.get_property(props.hint.inference_precision)) == "bf16"
    found = verdicts(compiled)
    assert found["SIMBF16"]["precision"] == "bf16" and found["SIMCPU"]["precision"] == "f32"
    assert found["SIMBF16"]["reference"] == "SIMCPU"
    assert found["SIMBF16"]["max_abs_diff"] == pytest.approx(0.5, rel=1e-3)
    assert "max difference from SIMCPU 0.5" in compiled.get_property(props.configuration_reason)


def test_accuracy_mode_runs_every_candidate_at_f32() -> None:
    compiled = settled(
        bf16_core().compile_model(
            MLP, "AUTO:SIMCPU,SIMBF16", {"EXECUTION_MODE_HINT": "ACCURACY", **QUICK}
        )
    )
    found = verdicts(compiled)
    assert found["SIMBF16"]["precision"] == "f32" and found["SIMBF16"]["max_abs_diff"] == 0.0
    assert str(compiled.get_property(props.hint.inference_precision)) == "f32"
    assert compiled.get_property(props.hint.execution_mode) == "ACCURACY"
    inputs = {"x": x(5)}
    np.testing.assert_allclose(compiled(inputs)[0], reference_outputs(inputs), rtol=1e-5)


def test_an_explicit_precision_is_passed_on() -> None:
    compiled = settled(
        bf16_core().compile_model(
            MLP, "AUTO:SIMCPU,SIMBF16", {"INFERENCE_PRECISION_HINT": "f32", **QUICK}
        )
    )
    assert verdicts(compiled)["SIMBF16"]["precision"] == "f32"


def test_the_accuracy_bound_refuses_a_faster_device_that_differs_too_much() -> None:
    config = {"OVLITE_AUTO_MAX_RELATIVE_ERROR": 0.001, **QUICK}
    compiled = settled(bf16_core().compile_model(MLP, "AUTO:SIMCPU,SIMBF16", config))
    assert compiled.get_property(props.execution_devices) == ["SIMCPU"]
    verdict = verdicts(compiled)["SIMBF16"]["verdict"]
    assert verdict.startswith("refused") and "OVLITE_AUTO_MAX_RELATIVE_ERROR 0.001" in verdict
    # a bound the gap fits in lets the faster device win
    loose = {"OVLITE_AUTO_MAX_RELATIVE_ERROR": 10.0, **QUICK}
    compiled = settled(bf16_core().compile_model(MLP, "AUTO:SIMCPU,SIMBF16", loose))
    assert compiled.get_property(props.execution_devices) == ["SIMBF16"]


def test_bad_auto_settings_are_refused_with_the_value() -> None:
    core = bf16_core()
    with pytest.raises(ov.PropertyValueError, match="OVLITE_AUTO_MAX_RELATIVE_ERROR"):
        core.compile_model(MLP, "AUTO", {"OVLITE_AUTO_MAX_RELATIVE_ERROR": -1})
    with pytest.raises(ov.PropertyValueError, match="OVLITE_AUTO_MEASURE_MS"):
        core.compile_model(MLP, "AUTO", {"OVLITE_AUTO_MEASURE_MS": "soon"})
    with pytest.raises(ov.PropertyValueError, match="inf"):
        core.compile_model(MLP, "AUTO", {"OVLITE_AUTO_MAX_RELATIVE_ERROR": float("inf")})


# ---- the decision cache ---------------------------------------------------------------------


def cache_files(folder: Path) -> list[Path]:
    return sorted((folder / "ovlite-auto").glob("*.json"))


def test_a_second_compile_follows_the_remembered_decision(tmp_path: Path) -> None:
    slow = SimulatedDevice("SIMSLOW", delay_ms=15, quick_compile=True)
    fast = SimulatedDevice("SIMFAST")
    core = make_core(slow, fast)
    config = {"CACHE_DIR": str(tmp_path), **QUICK}
    settled(core.compile_model(MLP, "AUTO:SIMSLOW,SIMFAST", config))
    assert len(cache_files(tmp_path)) == 1
    runs_before = (slow.compiled_count, fast.compiled_count)
    again = settled(core.compile_model(MLP, "AUTO:SIMSLOW,SIMFAST", config))
    assert again.get_property(props.execution_devices) == ["SIMFAST"]
    assert "remembered" in again.get_property(props.configuration_reason)
    assert verdicts(again)["SIMSLOW"]["verdict"].startswith("slower")
    # SIMSLOW served while SIMFAST compiled; nothing else was compiled to measure
    assert (slow.compiled_count, fast.compiled_count) == (runs_before[0] + 1, runs_before[1] + 1)


def test_the_decision_is_measured_again_when_model_or_settings_change(tmp_path: Path) -> None:
    core = make_core(
        SimulatedDevice("SIMSLOW", delay_ms=15, quick_compile=True), SimulatedDevice("SIMFAST")
    )
    config = {"CACHE_DIR": str(tmp_path), **QUICK}
    settled(core.compile_model(MLP, "AUTO:SIMSLOW,SIMFAST", config))
    other_model = ov.read_model(models.tiny_mlp(batch=1, seed=7))
    measured = settled(core.compile_model(other_model, "AUTO:SIMSLOW,SIMFAST", config))
    assert "remembered" not in measured.get_property(props.configuration_reason)
    throughput = {"PERFORMANCE_HINT": "THROUGHPUT", **config}
    measured = settled(core.compile_model(MLP, "AUTO:SIMSLOW,SIMFAST", throughput))
    assert "remembered" not in measured.get_property(props.configuration_reason)
    assert len(cache_files(tmp_path)) == 3


def test_a_corrupt_cache_file_is_ignored_and_rewritten(tmp_path: Path) -> None:
    core = make_core(
        SimulatedDevice("SIMSLOW", delay_ms=15, quick_compile=True), SimulatedDevice("SIMFAST")
    )
    config = {"CACHE_DIR": str(tmp_path), **QUICK}
    settled(core.compile_model(MLP, "AUTO:SIMSLOW,SIMFAST", config))
    [path] = cache_files(tmp_path)
    path.write_text("{not json")
    compiled = settled(core.compile_model(MLP, "AUTO:SIMSLOW,SIMFAST", config))
    assert compiled.get_property(props.execution_devices) == ["SIMFAST"]
    assert json.loads(path.read_text())["winner"] == "SIMFAST"


def test_the_cache_can_be_turned_off(tmp_path: Path) -> None:
    core = make_core(
        SimulatedDevice("SIMSLOW", delay_ms=15, quick_compile=True), SimulatedDevice("SIMFAST")
    )
    config = {"CACHE_DIR": str(tmp_path), "OVLITE_AUTO_CACHE_DECISION": False, **QUICK}
    settled(core.compile_model(MLP, "AUTO:SIMSLOW,SIMFAST", config))
    assert cache_files(tmp_path) == []


# ---- serving after the choice ---------------------------------------------------------------


def test_sync_inference_runs_in_the_callers_thread_on_the_winner() -> None:
    threads: list[str] = []

    def note_thread(inputs: object) -> float:
        threads.append(threading.current_thread().name)
        return 0.0

    fast = SimulatedDevice("SIMFAST", delay_when=note_thread)
    core = make_core(SimulatedDevice("SIMSLOW", delay_ms=15, quick_compile=True), fast)
    compiled = settled(core.compile_model(MLP, "AUTO:SIMSLOW,SIMFAST", QUICK))
    threads.clear()
    request = compiled.create_infer_request()
    request.infer({"x": x()})
    assert threads == [threading.current_thread().name]
    assert request.executed_on == "SIMFAST"


def test_after_the_switch_a_failed_request_falls_back_and_async_results_all_arrive() -> None:
    from ovlite.testing import SimulatedDevice as Sim

    def marked_bad(inputs) -> bool:  # noqa: ANN001
        return bool(inputs[0][0, 1] < 0)

    fast = Sim("SIMFAST", fail_when=marked_bad)
    core = make_core(Sim("SIMSLOW", delay_ms=15, quick_compile=True), fast)
    compiled = settled(core.compile_model(MLP, "AUTO:SIMSLOW,SIMFAST", QUICK))
    answers: dict[int, tuple[np.ndarray, str]] = {}
    lock = threading.Lock()

    def on_done(request: ov.InferRequest, i: int) -> None:
        with lock:
            assert i not in answers, f"request {i} answered twice"
            answers[i] = (request.results[0].copy(), request.executed_on)

    queue = ov.AsyncInferQueue(compiled, 4)
    queue.set_callback(on_done)
    for i in range(40):
        queue.start_async({"x": x(i, bad=i % 5 == 0)}, userdata=i)
    queue.wait_all()
    assert sorted(answers) == list(range(40))
    assert {answers[i][1] for i in range(40) if i % 5 == 0} == {"SIMSLOW"}
    assert {answers[i][1] for i in range(40) if i % 5} == {"SIMFAST"}
    inputs = {"x": x(7)}
    np.testing.assert_allclose(answers[7][0], reference_outputs(inputs), rtol=1e-5)
    sync = compiled({"x": x(10, bad=True)})  # a sync request falls back too
    assert sync[0].shape == (1, 8)


def test_cancel_lands_on_a_request_waiting_in_the_winners_queue() -> None:
    gate = threading.Event()
    fast = SimulatedDevice("SIMFAST", delay_when=lambda inputs: 0.0 if gate.is_set() else 300.0)
    core = make_core(SimulatedDevice("SIMSLOW", delay_ms=400, quick_compile=True), fast)
    gate.set()
    compiled = settled(core.compile_model(MLP, "AUTO:SIMSLOW,SIMFAST", QUICK))
    assert compiled.get_property(props.execution_devices) == ["SIMFAST"]
    gate.clear()  # SIMFAST now takes 300 ms per inference, one at a time (LATENCY: 1 stream)
    busy, waiting = compiled.create_infer_request(), compiled.create_infer_request()
    busy.start_async({"x": x(1)})
    waiting.start_async({"x": x(2)})
    waiting.cancel()
    busy.wait()
    with pytest.raises(ov.RequestCancelledError):
        waiting.wait()
    gate.set()


def test_close_while_measuring_stops_cleanly() -> None:
    core = make_core(
        SimulatedDevice("SIMSLOW", delay_ms=5, quick_compile=True),
        SimulatedDevice("SIMLATE", compile_delay_ms=500),
    )
    compiled = core.compile_model(MLP, "AUTO:SIMSLOW,SIMLATE", QUICK)
    compiled.close()
    assert compiled.wait_until_ready(timeout=30)
    with pytest.raises(ov.RequestCancelledError):
        compiled({"x": x()})


# ---- real devices -----------------------------------------------------------------------------


@pytest.mark.skipif(
    not {"CPU", "OPENVINO"} <= set(ov.Core().available_devices),
    reason="needs ovlite-cpu and ovlite-openvino (onnxruntime-openvino)",
)
@pytest.mark.parametrize("mode", ["PERFORMANCE", "ACCURACY"])
def test_auto_on_openvino_cpu_and_cpu_answers_within_the_reported_difference(mode: str) -> None:
    model = ov.read_model(models.resnet18(batch=1, image_size=64, num_classes=10))
    names = [p.any_name for p in model.inputs]
    inputs = dict(zip(names, calibration_inputs(model.inputs), strict=True))
    core = ov.Core()
    compiled = settled(
        core.compile_model(model, "AUTO:CPU,OPENVINO.CPU", {"EXECUTION_MODE_HINT": mode, **QUICK}),
        inputs,
    )
    found = verdicts(compiled)
    assert set(found) == {"CPU", "OPENVINO.CPU"}
    winner = compiled.get_property(props.execution_devices)[0]
    assert found[winner]["verdict"].startswith("chosen")
    assert found["CPU"]["precision"] == "f32"
    if mode == "ACCURACY":
        assert found["OPENVINO.CPU"]["precision"] == "f32"
    cpu = core.compile_model(model, "CPU")(inputs)[0]
    got = compiled(inputs)[0]
    assert np.abs(got - cpu).max() <= found[winner]["max_abs_diff"] * 1.01 + 1e-5
