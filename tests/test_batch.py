"""BATCH (automatic batching) for real on ``BATCH:CPU(N)``, plus simulated devices for failures,
composition and the OPTIMAL_BATCH_SIZE path.  No test asserts timings; waits are hang detectors."""

from __future__ import annotations

import threading
from collections import Counter

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import ovlite as ov
import ovlite.properties as props
from ovlite import models
from ovlite.meta.batch import BatchCompiledModel, BatchDevice, plan_batching
from ovlite.testing import SimulatedDevice, StandInPlugin
from ovlite.testing.conformance import (
    AsyncQueueConformance,
    BadInputConformance,
    CancellationConformance,
    ConcurrencyConformance,
    InferenceConformance,
    JobConformance,
)

HANG_S = 60.0  # a wait that takes this long is a hang, not a slow machine
NEVER_MS = 600_000  # an AUTO_BATCH_TIMEOUT no test waits for: batches form by filling up
RTOL, ATOL = 1e-4, 1e-4  # batched and unbatched GEMMs may round differently

RESNET = ov.read_model(models.resnet18(batch=None, image_size=32))
MLP = ov.read_model(models.tiny_mlp(batch=None))
MLP_B1 = ov.read_model(models.tiny_mlp(batch=1))
TWO = ov.read_model(models.two_inputs())


class BatchingSimulatedDevice(SimulatedDevice):
    """A simulated device that reports OPTIMAL_BATCH_SIZE, as a GPU plugin would."""

    def __init__(self, name: str, optimal_batch_size: int, **kwargs) -> None:  # noqa: ANN003
        super().__init__(name, **kwargs)
        self.optimal_batch_size = optimal_batch_size

    def device_properties(self, device_id: str | None = None) -> dict:
        return {
            **super().device_properties(device_id),
            props.optimal_batch_size.name: self.optimal_batch_size,
        }


@pytest.fixture(scope="module")
def core() -> ov.Core:
    core = ov.Core()
    if "CPU" not in core.available_devices:
        pytest.skip("the CPU device (ovlite-cpu) is not installed")
    return core


def make_core(*devices: SimulatedDevice) -> ov.Core:
    core = ov.Core()
    core.register_plugin(StandInPlugin(*devices), name="simulated")
    return core


def compile_batch(core: ov.Core, model: ov.Model, device: str, timeout_ms: int = NEVER_MS):
    return core.compile_model(
        model,
        device,
        {props.auto_batch_timeout: timeout_ms, props.hint.performance_mode: "THROUGHPUT"},
    )


def images(count: int, rows: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(count * 10 + rows)
    return [rng.standard_normal((rows, 3, 32, 32)).astype(np.float32) for _ in range(count)]


def mlp_input(i: int, rows: int = 1, bad: bool = False) -> np.ndarray:
    data = np.full((rows, 16), i / 64.0, dtype=np.float32)
    data[:, 1] = -1.0 if bad else 1.0  # the marker fail_when looks at
    return data


def marked_bad(inputs) -> bool:  # noqa: ANN001
    return bool((inputs[0][:, 1] < 0).any())


def root(array: np.ndarray) -> np.ndarray:
    """The array that owns the memory a view looks into."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def start(compiled: ov.CompiledModel, inputs: list[np.ndarray]) -> list[ov.InferRequest]:
    requests = []
    for data in inputs:
        request = compiled.create_infer_request()
        request.start_async({0: data})
        requests.append(request)
    return requests


def finish(requests: list[ov.InferRequest]) -> list[np.ndarray]:
    for request in requests:
        assert request.wait_for(HANG_S * 1000), "a batched request hung"
    return [request.results[0] for request in requests]


def onnx_model(nodes, inputs, outputs, initializers=()) -> ov.Model:  # noqa: ANN001
    graph = helper.make_graph(nodes, "probe", inputs, outputs, list(initializers))
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    proto.ir_version = 8
    return ov.read_model(proto)


def f32(name: str, shape: list) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


# ---- results, views, batches -------------------------------------------------------------------


def test_each_request_gets_what_plain_cpu_gives(core: ov.Core) -> None:
    compiled = compile_batch(core, RESNET, "BATCH:CPU(4)", timeout_ms=50)
    reference = core.compile_model(RESNET, "CPU")
    data = images(22)  # 5 full batches and a partial one the timer runs
    queue = ov.AsyncInferQueue(compiled)
    answers: dict[int, np.ndarray] = {}
    queue.set_callback(lambda request, i: answers.__setitem__(i, request.results[0]))
    for i, image in enumerate(data):
        queue.start_async({0: image}, userdata=i)
    queue.wait_all()
    assert sorted(answers) == list(range(len(data)))
    for i, image in enumerate(data):
        assert answers[i].shape == (1, 1000)
        np.testing.assert_allclose(answers[i], reference(image)[0], rtol=RTOL, atol=ATOL)
    compiled.close()


def test_results_are_views_into_one_batched_output(core: ov.Core) -> None:
    compiled = compile_batch(core, RESNET, "BATCH:CPU(4)")
    results = finish(start(compiled, images(4)))  # exactly one full batch
    shared = root(results[0])
    assert shared.shape == (4, 1000)
    for i, result in enumerate(results):
        assert root(result) is shared
        assert np.shares_memory(result, shared)
        np.testing.assert_array_equal(result, shared[i : i + 1])
    assert not np.shares_memory(results[0], results[1])  # each sees only its own slice
    compiled.close()


def test_a_partial_batch_runs_after_the_timeout(core: ov.Core) -> None:
    compiled = compile_batch(core, MLP, "BATCH:CPU(4)", timeout_ms=50)
    reference = core.compile_model(MLP, "CPU")
    data = [mlp_input(i) for i in range(3)]  # never fills a batch of 4
    for result, x in zip(finish(start(compiled, data)), data, strict=True):
        np.testing.assert_allclose(result, reference(x)[0], rtol=RTOL, atol=ATOL)
    compiled.close()


def test_requests_of_several_rows_fill_batches_by_rows(core: ov.Core) -> None:
    compiled = compile_batch(core, MLP, "BATCH:CPU(4)")
    reference = core.compile_model(MLP, "CPU")
    data = [mlp_input(1, 1), mlp_input(2, 2), mlp_input(3, 2), mlp_input(4, 2), mlp_input(5, 6)]
    results = finish(start(compiled, data))
    # 1+2 rows wait; 2 more would overflow 4, so they run; 2+2 fill the next; 6 runs alone
    assert root(results[0]) is root(results[1])
    assert root(results[2]) is root(results[3])
    assert root(results[0]) is not root(results[2])
    for result, x in zip(results, data, strict=True):
        assert result.shape == (x.shape[0], 8)
        np.testing.assert_allclose(result, reference(x)[0], rtol=RTOL, atol=ATOL)
    compiled.close()


def test_requests_with_other_shapes_never_share_a_batch(core: ov.Core) -> None:
    model = onnx_model(
        [helper.make_node("Relu", ["x"], ["y"])],
        [f32("x", ["batch", "n"])],
        [f32("y", ["batch", "n"])],
    )
    compiled = compile_batch(core, model, "BATCH:CPU(2)")
    rng = np.random.default_rng(0)
    data = [rng.standard_normal((1, n)).astype(np.float32) for n in (3, 5, 3, 3)]
    results = finish(start(compiled, data))
    for result, x in zip(results, data, strict=True):
        np.testing.assert_array_equal(result, np.maximum(x, 0))
    assert root(results[2]) is root(results[3])
    compiled.close()


def test_a_batch_1_model_is_reshaped_for_the_child_only(core: ov.Core) -> None:
    compiled = compile_batch(core, MLP_B1, "BATCH:CPU(3)")
    assert list(compiled.inputs[0].shape) == [1, 16]  # what users send is unchanged
    child = compiled.device_model.children()["CPU"]
    assert child.inputs[0].shape[0] == -1 and child.outputs[0].shape[0] == -1
    assert "made dynamic" in compiled.get_property(props.configuration_reason)
    reference = core.compile_model(MLP_B1, "CPU")
    data = [mlp_input(i) for i in range(3)]
    results = finish(start(compiled, data))
    assert root(results[0]) is root(results[2])
    for result, x in zip(results, data, strict=True):
        np.testing.assert_allclose(result, reference(x)[0], rtol=RTOL, atol=ATOL)
    with pytest.raises(ov.InputShapeError):
        compiled.create_infer_request().start_async({0: mlp_input(0, rows=2)})
    compiled.close()


def test_two_inputs_and_two_outputs_are_batched_together(core: ov.Core) -> None:
    compiled = compile_batch(core, TWO, "BATCH:CPU(2)")
    reference = core.compile_model(TWO, "CPU")
    data = [
        {"a": np.full((1, 4), i, np.float32), "b": np.arange(4, dtype=np.int64)[None] * i}
        for i in range(4)
    ]
    requests = []
    for inputs in data:
        request = compiled.create_infer_request()
        request.start_async(inputs)
        requests.append(request)
    finish(requests)
    for request, inputs in zip(requests, data, strict=True):
        expected = reference(inputs)
        for name in ("sum", "scaled"):
            np.testing.assert_allclose(request.results[name], expected[name], rtol=RTOL, atol=ATOL)
    odd = compiled.create_infer_request()  # 'batch' is one symbolic dimension of a and b
    with pytest.raises(ov.InputShapeError, match="'batch' must have one size"):
        odd.start_async({"a": np.zeros((2, 4), np.float32), "b": np.zeros((3, 4), np.int64)})
    compiled.close()


# ---- properties and device strings -------------------------------------------------------------


def test_properties_report_the_batching(core: ov.Core) -> None:
    compiled = compile_batch(core, RESNET, "BATCH:CPU(4)")
    child = compiled.device_model.children()["CPU"]
    expected = 4 * child.optimal_number_of_requests
    assert compiled.get_property(props.optimal_number_of_infer_requests) == expected
    assert len(ov.AsyncInferQueue(compiled)) == expected
    assert compiled.get_property(props.optimal_batch_size) == 4
    assert compiled.get_property(props.execution_devices) == ["CPU"]
    assert compiled.get_property(props.auto_batch_timeout) == NEVER_MS
    reason = compiled.get_property(props.configuration_reason)
    assert reason.startswith(f"batches of 4 on CPU, timeout {NEVER_MS} ms")
    assert "child: " in reason
    compiled.close()


def test_the_device_is_listed_with_its_default_timeout(core: ov.Core) -> None:
    assert isinstance(core.devices()["BATCH"], BatchDevice)
    assert "BATCH" not in core.available_devices  # meta devices are not hardware
    assert core.get_property("BATCH", props.auto_batch_timeout) == 1000


def test_executed_on_names_the_child(core: ov.Core) -> None:
    compiled = compile_batch(core, MLP, "BATCH:CPU(2)")
    requests = start(compiled, [mlp_input(0), mlp_input(1)])
    finish(requests)
    assert {request.executed_on for request in requests} == {"CPU"}
    compiled.close()


@pytest.mark.parametrize(
    ("device", "problem"),
    [
        ("BATCH", "needs a device"),
        ("BATCH:CPU(2),CPU(2)", "one device"),
        ("BATCH:-CPU", "cannot exclude"),
    ],
)
def test_bad_device_strings_are_refused(core: ov.Core, device: str, problem: str) -> None:
    with pytest.raises(ov.DeviceStringError, match=problem):
        core.compile_model(MLP, device)


def test_bare_batch_needs_a_size_when_the_child_reports_none(core: ov.Core) -> None:
    with pytest.raises(ov.CompileError, match=r"OPTIMAL_BATCH_SIZE.*BATCH:CPU\(N\)"):
        core.compile_model(MLP, "BATCH:CPU")


def test_bare_batch_uses_the_childs_optimal_batch_size() -> None:
    core = make_core(BatchingSimulatedDevice("SIMB", optimal_batch_size=3))
    compiled = compile_batch(core, MLP, "BATCH:SIMB")
    assert compiled.get_property(props.optimal_batch_size) == 3
    assert "OPTIMAL_BATCH_SIZE of SIMB" in compiled.get_property(props.configuration_reason)
    results = finish(start(compiled, [mlp_input(i) for i in range(3)]))
    assert root(results[0]) is root(results[2])
    compiled.close()


# ---- models that cannot be batched -------------------------------------------------------------


def _reduce_over_batch() -> ov.Model:
    axes = numpy_helper.from_array(np.array([0], np.int64), "axes")
    node = helper.make_node("ReduceSum", ["x", "axes"], ["y"], keepdims=1)
    return onnx_model([node], [f32("x", ["batch", 4])], [f32("y", [1, 4])], [axes])


def _reshape_to_constant_batch() -> ov.Model:
    shape = numpy_helper.from_array(np.array([1, -1], np.int64), "shape")
    node = helper.make_node("Reshape", ["x", "shape"], ["y"])
    return onnx_model([node], [f32("x", [1, 4, 2])], [f32("y", [1, 8])], [shape])


NOT_BATCHABLE = {
    "static batch 2": (
        lambda: onnx_model(
            [helper.make_node("Relu", ["x"], ["y"])], [f32("x", [2, 4])], [f32("y", [2, 4])]
        ),
        r"input 'x' has shape \[2,4\]: dim 0 is already 2",
    ),
    "scalar input": (
        lambda: onnx_model(
            [helper.make_node("Relu", ["x"], ["y"])], [f32("x", [])], [f32("y", [])]
        ),
        r"input 'x' is a scalar",
    ),
    "output reduced over the batch": (
        _reduce_over_batch,
        r"output 'y' has shape \[1,4\]: its dim 0 is fixed at 1",
    ),
    "output reshaped to a constant batch": (
        _reshape_to_constant_batch,
        r"output 'y' has shape \[1,16\] for a batch of 2",
    ),
    "batched and unbatched inputs": (
        lambda: onnx_model(
            [helper.make_node("Add", ["a", "b"], ["y"])],
            [f32("a", ["batch", 4]), f32("b", [1, 4])],
            [f32("y", ["batch", 4])],
        ),
        r"'a' have a dynamic dim 0 but 'b' have dim 0 = 1",
    ),
}


@pytest.mark.parametrize("case", sorted(NOT_BATCHABLE))
def test_a_model_without_a_batch_dimension_is_refused_clearly(core: ov.Core, case: str) -> None:
    build, problem = NOT_BATCHABLE[case]
    with pytest.raises(ov.CompileError, match=problem) as caught:
        core.compile_model(build(), "BATCH:CPU(4)")
    assert "BATCH:CPU(4) cannot batch model 'probe'" in str(caught.value)


def test_plan_keeps_a_dynamic_model_as_it_is() -> None:
    plan = plan_batching(RESNET)
    assert plan.child_model is RESNET and not plan.reshaped and not plan.notes


# ---- failures, cancellation, closing -----------------------------------------------------------


def test_a_failing_batch_fails_each_of_its_jobs_once_and_later_batches_succeed() -> None:
    core = make_core(SimulatedDevice("SIMF", fail_when=marked_bad))
    compiled = compile_batch(core, MLP, "BATCH:SIMF(4)")
    finished: Counter = Counter()
    all_done = threading.Event()
    lock = threading.Lock()

    def on_done(job: ov.Job) -> None:
        with lock:
            finished[id(job)] += 1
            if len(finished) == 8:
                all_done.set()

    first = [ov.Job([mlp_input(i, bad=i == 2)], on_done) for i in range(4)]
    second = [ov.Job([mlp_input(i)], on_done) for i in range(4, 8)]
    for job in first + second:
        compiled.device_model.submit(job)
    assert all_done.wait(HANG_S), "a job of a failed batch was never finished"
    assert set(finished.values()) == {1}
    for job in first:
        assert isinstance(job.error, ov.InferenceError)
        assert "the batch of 4 request(s)" in str(job.error) and "injected failure" in str(
            job.error
        )
    assert len({id(job.error) for job in first}) == 4  # each its own error object
    for job in second:
        assert job.error is None and job.outputs[0].shape == (1, 8)
    compiled.close()


def test_a_request_cancelled_before_its_batch_forms_is_dropped(core: ov.Core) -> None:
    compiled = compile_batch(core, MLP, "BATCH:CPU(4)")
    reference = core.compile_model(MLP, "CPU")
    early = start(compiled, [mlp_input(0), mlp_input(1)])
    early[1].cancel()
    with pytest.raises(ov.RequestCancelledError):
        early[1].wait()
    later = start(compiled, [mlp_input(2), mlp_input(3)])  # 3 live rows: still waiting
    last = start(compiled, [mlp_input(4)])  # the 4th live row fills the batch
    kept = [early[0], *later, *last]
    results = finish(kept)
    assert len({id(root(result)) for result in results}) == 1
    for result, i in zip(results, [0, 2, 3, 4], strict=True):
        np.testing.assert_allclose(result, reference(mlp_input(i))[0], rtol=RTOL, atol=ATOL)
    compiled.close()


def test_close_runs_what_is_pending_and_refuses_what_comes_after(core: ov.Core) -> None:
    compiled = compile_batch(core, MLP, "BATCH:CPU(4)")
    pending = start(compiled, [mlp_input(0), mlp_input(1)])
    compiled.close()
    assert all(r.shape == (1, 8) for r in finish(pending))
    late = compiled.create_infer_request()
    late.start_async({0: mlp_input(2)})
    with pytest.raises(ov.RequestCancelledError):
        late.wait_for(HANG_S * 1000)
    with pytest.raises(ov.RequestCancelledError):
        compiled({0: mlp_input(3)})


@pytest.mark.parametrize("on_device", [False, True], ids=["numpy", "device tensor"])
def test_a_cancelled_job_submitted_after_close_ends_once_cancelled(
    core: ov.Core, on_device: bool
) -> None:
    compiled = compile_batch(core, MLP, "BATCH:CPU(4)")
    compiled.close()
    data = mlp_input(0)
    if on_device:
        import onnxruntime

        data = onnxruntime.OrtValue.ortvalue_from_numpy(data)
    ends: list[ov.Job] = []
    job = ov.Job([data], ends.append)
    job.cancel()
    compiled.device_model.submit(
        job
    )  # closed, and the job was cancelled meanwhile: nothing more to do
    assert ends == [job]
    assert isinstance(job.error, ov.RequestCancelledError)


def test_a_cancelled_job_with_mismatched_rows_ends_once_cancelled(core: ov.Core) -> None:
    compiled = compile_batch(core, TWO, "BATCH:CPU(4)")
    ends: list[ov.Job] = []
    job = ov.Job([np.zeros((1, 4), np.float32), np.zeros((2, 4), np.int64)], ends.append)
    job.cancel()
    compiled.device_model.submit(job)  # refused for its shapes, but it was cancelled already
    assert ends == [job]
    assert isinstance(job.error, ov.RequestCancelledError)
    compiled.close()


def test_a_sync_inference_runs_alone_at_once(core: ov.Core) -> None:
    compiled = compile_batch(core, MLP, "BATCH:CPU(4)")  # a batch would wait 10 minutes
    reference = core.compile_model(MLP, "CPU")
    outcome: list = []
    worker = threading.Thread(
        target=lambda: outcome.append(
            (
                compiled({0: mlp_input(1)})[0],
                compiled.create_infer_request().infer({0: mlp_input(2)})[0],
            )
        ),
        daemon=True,
    )
    worker.start()
    worker.join(HANG_S)
    assert outcome, "a synchronous inference waited for a batch"
    np.testing.assert_allclose(outcome[0][0], reference(mlp_input(1))[0], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(outcome[0][1], reference(mlp_input(2))[0], rtol=RTOL, atol=ATOL)
    compiled.close()


def test_a_sync_inference_under_an_inference_timeout_runs_alone_too(core: ov.Core) -> None:
    config = {props.auto_batch_timeout: NEVER_MS, props.inference_timeout: int(HANG_S * 1000)}
    compiled = core.compile_model(MLP, "BATCH:CPU(4)", config)
    reference = core.compile_model(MLP, "CPU")
    outcome: list = []
    worker = threading.Thread(
        target=lambda: outcome.append(compiled({0: mlp_input(1)})[0]), daemon=True
    )
    worker.start()
    worker.join(HANG_S)
    assert outcome, "a synchronous inference waited for a batch"
    np.testing.assert_allclose(outcome[0], reference(mlp_input(1))[0], rtol=RTOL, atol=ATOL)
    compiled.close()


def test_a_request_that_expires_while_waiting_for_its_batch_is_dropped(core: ov.Core) -> None:
    config = {props.auto_batch_timeout: NEVER_MS, props.inference_timeout: 50}
    compiled = core.compile_model(MLP, "BATCH:CPU(2)", config)
    lonely = start(compiled, [mlp_input(0)])[0]
    with pytest.raises(ov.RequestTimeoutError):
        lonely.wait_for(HANG_S * 1000)
    results = finish(start(compiled, [mlp_input(1), mlp_input(2)]))  # the expired row is gone
    assert root(results[0]) is root(results[1]) and root(results[0]).shape == (2, 8)
    compiled.close()


# ---- concurrency and composition ---------------------------------------------------------------


def _answer_all(
    compiled: ov.CompiledModel, threads: int, per_thread: int
) -> tuple[dict, list, Counter]:
    queue = ov.AsyncInferQueue(compiled)
    answers: dict[tuple[int, int], np.ndarray] = {}
    twice: list = []
    devices: Counter = Counter()
    lock = threading.Lock()

    def on_done(request: ov.InferRequest, userdata: tuple[int, int]) -> None:
        with lock:
            if userdata in answers:
                twice.append(userdata)
            answers[userdata] = request.results[0].copy()
            devices[request.executed_on] += 1

    queue.set_callback(on_done)

    def feed(t: int) -> None:
        for i in range(per_thread):
            queue.start_async({0: mlp_input(t * per_thread + i)}, userdata=(t, i))

    workers = [threading.Thread(target=feed, args=(t,), daemon=True) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(HANG_S)
        assert not worker.is_alive(), "start_async hung"
    queue.wait_all()
    return answers, twice, devices


def test_many_threads_through_one_queue_are_each_answered_once(core: ov.Core) -> None:
    compiled = compile_batch(core, MLP, "BATCH:CPU(4)", timeout_ms=20)
    reference = core.compile_model(MLP, "CPU")
    answers, twice, _ = _answer_all(compiled, threads=4, per_thread=25)
    assert not twice
    assert sorted(answers) == [(t, i) for t in range(4) for i in range(25)]
    for (t, i), result in answers.items():
        expected = reference(mlp_input(t * 25 + i))[0]
        np.testing.assert_allclose(result, expected, rtol=RTOL, atol=ATOL)
    compiled.close()


def test_batch_composes_under_multi(core: ov.Core) -> None:
    core = ov.Core()
    core.register_plugin(StandInPlugin(SimulatedDevice("SIMX", delay_ms=2)), name="simulated")
    compiled = compile_batch(core, MLP, "MULTI:SIMX,BATCH:CPU(2)", timeout_ms=20)
    assert "BATCH:CPU(2)" in compiled.device_model.children()
    reference = core.compile_model(MLP, "CPU")
    answers, twice, devices = _answer_all(compiled, threads=2, per_thread=20)
    assert not twice and len(answers) == 40
    assert set(devices) <= {"SIMX", "CPU"}
    for (t, i), result in answers.items():
        np.testing.assert_allclose(
            result, reference(mlp_input(t * 20 + i))[0], rtol=RTOL, atol=ATOL
        )
    compiled.close()


# ---- automatic batching (THROUGHPUT on a device that reports OPTIMAL_BATCH_SIZE) ---------------


def test_throughput_on_a_device_reporting_optimal_batch_size_is_batched() -> None:
    core = make_core(BatchingSimulatedDevice("SIMB", optimal_batch_size=4))
    compiled = core.compile_model(MLP, "SIMB", {props.hint.performance_mode: "THROUGHPUT"})
    assert isinstance(compiled.device_model, BatchCompiledModel)
    assert compiled.device_name == "BATCH:SIMB(4)"
    assert compiled.get_property(props.optimal_batch_size) == 4
    assert compiled.get_property(props.configuration_reason).startswith("batches of 4 on SIMB")
    results = finish(start(compiled, [mlp_input(i) for i in range(4)]))
    assert len({id(root(result)) for result in results}) == 1
    compiled.close()


class PerModelBatchingDevice(BatchingSimulatedDevice):
    """Reports OPTIMAL_BATCH_SIZE 4 as a property, but 2 for every model it is asked about."""

    def model_batch_size(self, model, device_id, config):  # noqa: ANN001, ANN201
        self.asked = (model.friendly_name, config.get(props.hint.performance_mode.name))
        return 2


def test_a_per_model_batch_size_wins_over_the_device_property() -> None:
    device = PerModelBatchingDevice("SIMB", optimal_batch_size=4)
    core = make_core(device)
    compiled = core.compile_model(MLP, "SIMB", {props.hint.performance_mode: "THROUGHPUT"})
    assert compiled.device_name == "BATCH:SIMB(2)"
    assert device.asked[0] == MLP.friendly_name
    compiled.close()
    bare = compile_batch(core, MLP, "BATCH:SIMB")
    assert bare.get_property(props.optimal_batch_size) == 2
    bare.close()


def test_the_timeout_reaches_automatic_batching() -> None:
    core = make_core(BatchingSimulatedDevice("SIMB", optimal_batch_size=4))
    config = {props.hint.performance_mode: "THROUGHPUT", props.auto_batch_timeout: 20}
    compiled = core.compile_model(MLP, "SIMB", config)
    assert compiled.get_property(props.auto_batch_timeout) == 20
    assert finish(start(compiled, [mlp_input(0)]))[0].shape == (1, 8)  # the timer runs it
    compiled.close()


def test_allow_auto_batching_false_keeps_the_device_alone() -> None:
    core = make_core(BatchingSimulatedDevice("SIMB", optimal_batch_size=4))
    config = {props.hint.performance_mode: "THROUGHPUT", props.hint.allow_auto_batching: False}
    compiled = core.compile_model(MLP, "SIMB", config)
    assert not isinstance(compiled.device_model, BatchCompiledModel)
    compiled.close()


def test_a_model_that_cannot_be_batched_passes_through_with_the_reason() -> None:
    core = make_core(BatchingSimulatedDevice("SIMB", optimal_batch_size=4))
    model = NOT_BATCHABLE["static batch 2"][0]()
    compiled = core.compile_model(model, "SIMB", {props.hint.performance_mode: "THROUGHPUT"})
    assert not isinstance(compiled.device_model, BatchCompiledModel)
    reason = compiled.get_property(props.configuration_reason)
    assert "automatic batching not applied" in reason and "dim 0 is already 2" in reason
    compiled.close()


def test_latency_is_never_batched_automatically() -> None:
    core = make_core(BatchingSimulatedDevice("SIMB", optimal_batch_size=4))
    compiled = core.compile_model(MLP, "SIMB", {props.hint.performance_mode: "LATENCY"})
    assert not isinstance(compiled.device_model, BatchCompiledModel)
    compiled.close()


def test_batch_over_a_device_that_reports_a_size_is_not_batched_twice() -> None:
    core = make_core(BatchingSimulatedDevice("SIMB", optimal_batch_size=4))
    compiled = compile_batch(core, MLP, "BATCH:SIMB(2)")
    assert not isinstance(compiled.device_model.children()["SIMB"], BatchCompiledModel)
    compiled.close()


# ---- the plugin conformance suite, through BATCH -----------------------------------------------


class TestBatchConformance(
    InferenceConformance,
    JobConformance,
    AsyncQueueConformance,
    BadInputConformance,
    ConcurrencyConformance,
    CancellationConformance,
):
    """The suite's behaviour tests on ``BATCH:CPU(2)`` (the property tests are about plugins)."""

    device = "BATCH:CPU(2)"
    config = {props.auto_batch_timeout.name: 10}
    supports_cancellation = True
    supports_dynamic_shapes = True

    def test_executed_on_names_this_device(self, model, compile_model) -> None:  # noqa: ANN001
        request = compile_model(model).create_infer_request()
        request.infer(self.inputs(model, 7))
        assert request.executed_on == "CPU"  # BATCH reports the device that ran the batch
