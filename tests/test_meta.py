"""MULTI and AUTO over simulated devices (ONNX Runtime + injected speed, failures, delays)."""

from __future__ import annotations

import threading
import time
from collections import Counter

import numpy as np
import pytest

import ovlite as ov
import ovlite.properties as props
from ovlite import models
from ovlite.testing import SimulatedDevice, StandInPlugin

MLP = ov.read_model(models.tiny_mlp(batch=1))


def x(i: int, bad: bool = False) -> np.ndarray:
    data = np.full((1, 16), i / 64.0, dtype=np.float32)
    data[0, 1] = -1.0 if bad else 1.0  # the marker that fail_when looks at
    return data


def marked_bad(inputs) -> bool:  # noqa: ANN001
    return bool(inputs[0][0, 1] < 0)


def make_core(*devices: SimulatedDevice) -> ov.Core:
    core = ov.Core()
    core.register_plugin(StandInPlugin(*devices), name="simulated")
    return core


def run_queue(
    compiled: ov.CompiledModel, jobs: list[tuple[int, bool]], nireq: int = 0
) -> tuple[dict, Counter, list]:
    """Run every job once through an AsyncInferQueue; return answers, devices used, errors."""
    queue = ov.AsyncInferQueue(compiled, nireq)
    answers: dict[int, np.ndarray] = {}
    devices: Counter = Counter()
    lock = threading.Lock()

    def on_done(request: ov.InferRequest, userdata: int) -> None:
        with lock:
            assert userdata not in answers, f"job {userdata} answered twice"
            answers[userdata] = request.results[0].copy()
            devices[request.executed_on] += 1

    queue.set_callback(on_done)
    errors = []
    for i, bad in jobs:
        while True:
            try:
                queue.start_async({"x": x(i, bad)}, userdata=i)
                break
            except ov.InferenceError as error:
                errors.append(error)
    while True:
        try:
            queue.wait_all()
            break
        except ov.InferenceError as error:
            errors.append(error)
    return answers, devices, errors


@pytest.fixture(scope="module")
def expected() -> dict[int, np.ndarray]:
    import onnxruntime as ort

    session = ort.InferenceSession(MLP.to_bytes(), providers=["CPUExecutionProvider"])
    return {i: session.run(None, {"x": x(i)})[0] for i in range(300)}


# ---- MULTI ----------------------------------------------------------------------------------


def test_multi_reports_children_and_the_sum_of_their_requests() -> None:
    core = make_core(SimulatedDevice("SIMA"), SimulatedDevice("SIMB", throughput_streams=3))
    compiled = core.compile_model(MLP, "MULTI:SIMA,SIMB")
    assert compiled.get_property(props.execution_devices) == ["SIMA", "SIMB"]
    assert compiled.get_property(props.optimal_number_of_infer_requests) == 2 + 3
    assert compiled.device_model.children()["SIMB"].get_property("PERFORMANCE_HINT") == "THROUGHPUT"
    counted = core.compile_model(MLP, "MULTI:SIMA(4),SIMB(1)")
    assert counted.get_property(props.optimal_number_of_infer_requests) == 5
    assert compiled.get_property(props.dropped_devices) == []
    assert "MULTI over SIMA (2 requests), SIMB (3 requests)" in compiled.get_property(
        props.configuration_reason
    )


def test_multi_gives_each_child_its_device_properties() -> None:
    core = make_core(SimulatedDevice("SIMA"), SimulatedDevice("SIMB"))
    compiled = core.compile_model(
        MLP,
        "MULTI:SIMA,SIMB",
        {"DEVICE_PROPERTIES": {"SIMA": {"NUM_STREAMS": 3}}, "PERF_COUNT": True},
    )
    children = compiled.device_model.children()
    assert children["SIMA"].get_property("NUM_STREAMS") == 3
    assert children["SIMB"].get_property("NUM_STREAMS") == 2
    assert children["SIMB"].get_property("PERF_COUNT") is True


def test_multi_spreads_load_in_proportion_to_speed(expected: dict[int, np.ndarray]) -> None:
    core = make_core(
        SimulatedDevice("FAST", delay_ms=4, throughput_streams=1),
        SimulatedDevice("SLOW", delay_ms=20, throughput_streams=1),
    )
    compiled = core.compile_model(MLP, "MULTI:FAST,SLOW")
    answers, devices, errors = run_queue(compiled, [(i, False) for i in range(150)])
    assert errors == [] and sorted(answers) == list(range(150))
    assert devices["FAST"] >= 2 * devices["SLOW"] > 0
    np.testing.assert_allclose(answers[42], expected[42], rtol=1e-6)


def test_multi_retries_failed_jobs_on_another_child_exactly_once(
    expected: dict[int, np.ndarray],
) -> None:
    core = make_core(
        SimulatedDevice("FLAKY", fail_when=marked_bad, throughput_streams=2),
        SimulatedDevice("STEADY", throughput_streams=2),
    )
    compiled = core.compile_model(MLP, "MULTI:FLAKY,STEADY")
    jobs = [(i, i % 3 == 0) for i in range(120)]
    answers, devices, errors = run_queue(compiled, jobs)
    assert errors == []
    assert sorted(answers) == list(range(120))
    good = [i for i, bad in jobs if not bad]
    for i in good[:10]:
        np.testing.assert_allclose(answers[i], expected[i], rtol=1e-6)
    assert devices["STEADY"] >= 40  # every bad job ended up there


def test_multi_reports_an_error_only_when_every_child_failed() -> None:
    core = make_core(
        SimulatedDevice("BADA", fail_when=marked_bad), SimulatedDevice("BADB", fail_when=marked_bad)
    )
    compiled = core.compile_model(MLP, "MULTI:BADA,BADB")
    answers, _, errors = run_queue(compiled, [(i, i == 5) for i in range(20)])
    assert sorted(answers) == [i for i in range(20) if i != 5]
    assert len(errors) == 1
    assert "every device failed" in str(errors[0])
    assert "BADA" in str(errors[0]) and "BADB" in str(errors[0])


def test_multi_stops_feeding_a_dead_child() -> None:
    core = make_core(
        SimulatedDevice("DEAD", fail_when=lambda inputs: True), SimulatedDevice("ALIVE")
    )
    compiled = core.compile_model(MLP, "MULTI:DEAD,ALIVE")
    answers, devices, errors = run_queue(compiled, [(i, False) for i in range(60)])
    assert errors == [] and len(answers) == 60
    assert devices == Counter({"ALIVE": 60})
    dropped = compiled.get_property(props.dropped_devices)
    assert len(dropped) == 1 and dropped[0].startswith("DEAD: failed 3 requests in a row")
    assert compiled.get_property(props.execution_devices) == ["ALIVE"]


def run_until_probed(compiled: ov.CompiledModel, rounds: int = 5) -> tuple[dict, Counter, list]:
    """Rounds of 400 jobs until MULTI's probe has decided (a loaded machine may need more
    than one); returns the last round's outcome."""
    for _ in range(rounds):
        outcome = run_queue(compiled, [(i, False) for i in range(400)])
        if compiled.device_model.balancer._probe.phase == "done":
            break
    return outcome


def test_multi_drops_a_child_that_drags_the_total_down() -> None:
    same_cores = threading.Lock()  # both devices need the same resource, as on shared cores
    core = make_core(
        SimulatedDevice("QUICK", delay_ms=3, throughput_streams=1, shared_resource=same_cores),
        SimulatedDevice("HOG", delay_ms=30, throughput_streams=1, shared_resource=same_cores),
    )
    compiled = core.compile_model(MLP, "MULTI:QUICK,HOG")
    compiled.device_model.balancer.probe_seconds = 0.3
    answers, devices, errors = run_until_probed(compiled)
    assert errors == [] and len(answers) == 400
    dropped = compiled.get_property(props.dropped_devices)
    assert len(dropped) == 1 and dropped[0].startswith("HOG: QUICK alone completed")
    assert compiled.get_property(props.execution_devices) == ["QUICK"]


def test_multi_probes_again_and_takes_back_a_child_once_it_helps() -> None:
    same_cores = threading.Lock()
    quick = SimulatedDevice("QUICK", delay_ms=3, throughput_streams=1, shared_resource=same_cores)
    hog = SimulatedDevice("HOG", delay_ms=30, throughput_streams=1, shared_resource=same_cores)
    compiled = make_core(quick, hog).compile_model(MLP, "MULTI:QUICK,HOG")
    compiled.device_model.balancer.probe_seconds = 0.3
    run_until_probed(compiled)
    assert compiled.get_property(props.execution_devices) == ["QUICK"]
    # the competition ends: HOG becomes an independent device as fast as QUICK, and the
    # next probe round (made due at once here) gives it work again
    quick.shared_resource = hog.shared_resource = None
    hog.delay_ms = 3
    compiled.device_model.balancer.reprobe_seconds = 0.2
    compiled.device_model.balancer._probe.next_round = 1.0  # long past
    _, devices, errors = run_queue(compiled, [(i, False) for i in range(600)])
    assert errors == []
    assert devices["HOG"] > 0


def test_multi_needs_a_device_list_and_cannot_exclude() -> None:
    core = make_core(SimulatedDevice("SIMA"))
    with pytest.raises(ov.DeviceStringError, match="MULTI needs devices"):
        core.compile_model(MLP, "MULTI")
    with pytest.raises(ov.DeviceStringError, match="cannot exclude"):
        core.compile_model(MLP, "MULTI:-SIMA")
    bare = core.compile_model(MLP, "MULTI", {"DEVICE_PRIORITIES": "SIMA"})
    assert bare.get_property(props.execution_devices) == ["SIMA"]


# ---- AUTO -----------------------------------------------------------------------------------


#: AUTO without measuring: the first candidate by priority, as OpenVINO's AUTO chooses (the
#: measured choice is tested in test_auto.py).
BY_PRIORITY = {"OVLITE_AUTO_MEASURE_MS": 0}


def auto_core(**gpu: object) -> ov.Core:
    return make_core(
        SimulatedDevice("SIMGPU", priority=100, **gpu),  # type: ignore[arg-type]
        # above the real CPU's priority (10), so a real CPU plugin does not change the choice
        SimulatedDevice("SIMCPU", priority=20, quick_compile=True),
    )


def test_auto_prefers_the_highest_priority_and_follows_lists_and_exclusions() -> None:
    core = auto_core()
    config = {"ENABLE_STARTUP_FALLBACK": False, **BY_PRIORITY}
    assert core.compile_model(MLP, "AUTO", config).get_property(props.execution_devices) == [
        "SIMGPU"
    ]
    assert core.compile_model(MLP, "AUTO:SIMCPU,SIMGPU", config).get_property(
        props.execution_devices
    ) == ["SIMCPU"]
    assert core.compile_model(MLP, "AUTO:-SIMGPU", config).get_property(
        props.execution_devices
    ) == ["SIMCPU"]
    reason = core.compile_model(MLP, "AUTO", config).get_property(props.configuration_reason)
    assert "chose SIMGPU" in reason


def test_auto_skips_a_device_that_cannot_compile_and_says_why() -> None:
    core = auto_core(compile_error="unsupported operator Foo")
    compiled = core.compile_model(MLP, "AUTO", BY_PRIORITY)
    assert compiled.get_property(props.execution_devices) == ["SIMCPU"]
    # SIMGPU failing leaves SIMCPU serving: no device ranked below it takes over
    assert compiled.wait_until_ready(timeout=30)
    assert compiled.get_property(props.execution_devices) == ["SIMCPU"]
    reason = compiled.get_property(props.configuration_reason)
    assert "SIMGPU skipped" in reason and "unsupported operator Foo" in reason


def test_auto_serves_from_a_quick_device_while_the_chosen_one_compiles() -> None:
    core = auto_core(compile_delay_ms=1500)
    compiled = core.compile_model(MLP, "AUTO", BY_PRIORITY)
    assert compiled.get_property(props.execution_devices) == ["SIMCPU"]
    request = compiled.create_infer_request()
    request.infer({"x": x(1)})
    assert request.executed_on == "SIMCPU"
    assert "still compiling" in compiled.get_property(props.configuration_reason)
    assert compiled.wait_until_ready(timeout=30)
    assert compiled.get_property(props.execution_devices) == ["SIMGPU"]
    request.infer({"x": x(2)})
    assert request.executed_on == "SIMGPU"
    # without the start-up fallback the first inference already runs on the chosen device
    plain = core.compile_model(
        MLP, "AUTO", {props.intel_auto.enable_startup_fallback: False, **BY_PRIORITY}
    )
    assert plain.get_property(props.execution_devices) == ["SIMGPU"]


def test_auto_runtime_fallback_reruns_on_the_next_candidate(
    expected: dict[int, np.ndarray],
) -> None:
    core = auto_core(fail_when=marked_bad)
    compiled = core.compile_model(MLP, "AUTO", {"ENABLE_STARTUP_FALLBACK": False, **BY_PRIORITY})
    answers, devices, errors = run_queue(compiled, [(i, i % 4 == 0) for i in range(40)])
    assert errors == [] and sorted(answers) == list(range(40))
    assert devices["SIMCPU"] == 10 and devices["SIMGPU"] == 30
    strict = core.compile_model(
        MLP,
        "AUTO",
        {"ENABLE_STARTUP_FALLBACK": False, "ENABLE_RUNTIME_FALLBACK": False, **BY_PRIORITY},
    )
    with pytest.raises(ov.InferenceError, match="injected failure"):
        strict({"x": x(3, bad=True)})


def test_auto_cumulative_throughput_uses_every_candidate() -> None:
    core = auto_core()
    compiled = core.compile_model(
        MLP, "AUTO:SIMGPU,SIMCPU", {"PERFORMANCE_HINT": "CUMULATIVE_THROUGHPUT"}
    )
    assert sorted(compiled.get_property(props.execution_devices)) == ["SIMCPU", "SIMGPU"]
    assert compiled.get_property(props.optimal_number_of_infer_requests) == 4


def test_auto_with_no_candidate_left_is_an_error() -> None:
    core = make_core(SimulatedDevice("ONLY"))
    with pytest.raises(ov.DeviceUnavailableError, match="no candidate device is left"):
        core.compile_model(MLP, "AUTO:" + ",".join(f"-{d}" for d in core.available_devices))


@pytest.mark.skipif("CPU" not in ov.Core().available_devices, reason="ovlite-cpu not installed")
def test_default_device_is_auto_and_picks_the_real_cpu() -> None:
    compiled = ov.Core().compile_model(MLP)
    request = compiled.create_infer_request()
    request.infer({"x": x(1)})
    assert request.executed_on == "CPU"
    multi = ov.Core().compile_model(MLP, "MULTI:CPU")
    assert multi({"x": x(1)})[0].shape == (1, 8)


def test_a_job_waiting_for_a_child_that_never_comes_fails_once() -> None:
    """The balancer's spare callback may answer CHILD_COMING (RAY: a replacement replica is
    starting): the job every child failed waits in the queue, and fails, once, when its owner
    says the child will not come."""
    from ovlite.jobs import Job
    from ovlite.meta.scheduler import CHILD_COMING, Child, LoadBalancer

    core = make_core(SimulatedDevice("DEAD", fail_when=lambda inputs: True))
    dead = core.compile_model(models.tiny_mlp(), "DEAD")
    coming: list[set[str]] = []

    def spare(failed: set[str]) -> object:
        coming.append(failed)
        return CHILD_COMING

    balancer = LoadBalancer([Child("DEAD", dead, 2)], "TEST", probe=False, spare=spare)
    finished = threading.Event()
    outcomes: list[BaseException | None] = []

    def on_done(job: Job) -> None:
        outcomes.append(job.error)
        finished.set()

    balancer.submit(Job([np.ones((1, 16), np.float32)], on_done))
    for _ in range(1000):  # the child fails the job on its worker thread: up to 10 s
        if coming:
            break
        time.sleep(0.01)
    assert coming == [{"DEAD"}] and not finished.is_set()  # waiting, not failed
    balancer.fail_stranded()
    assert finished.wait(10)
    assert len(outcomes) == 1 and isinstance(outcomes[0], ov.InferenceError)
    assert "every device failed" in str(outcomes[0])
