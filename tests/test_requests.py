"""InferRequest and CompiledModel behaviour, on the STANDIN device (onnx reference evaluator)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import ovlite as ov
from ovlite import models
from ovlite.testing import StandInDevice, StandInPlugin, random_inputs

_PORTS = ov.read_model(models.two_inputs()).inputs


def two_inputs_data(seed: int, batch: int = 2) -> dict[str, np.ndarray]:
    return random_inputs(_PORTS, seed, dynamic_dim=batch)


def two_inputs_expected(data: dict[str, np.ndarray]) -> np.ndarray:
    """The ``sum`` output of models.two_inputs(): a + float(b)."""
    return data["a"] + data["b"].astype(np.float32)


@pytest.fixture
def compiled(core: ov.Core, two_inputs_model: ov.Model) -> ov.CompiledModel:
    return core.compile_model(two_inputs_model, "STANDIN")


def test_inputs_by_name_index_port_list_and_results_by_port_index_name(
    compiled: ov.CompiledModel,
) -> None:
    data = two_inputs_data(1)
    expected = two_inputs_expected(data)
    forms = [
        data,
        {0: data["a"], 1: data["b"]},
        {compiled.input("a"): data["a"], compiled.input(1): data["b"]},
        [data["a"], data["b"]],
        (ov.Tensor(data["a"]), data["b"]),
    ]
    for inputs in forms:
        results = compiled(inputs)
        np.testing.assert_allclose(results["sum"], expected)
        np.testing.assert_allclose(results[0], expected)
        np.testing.assert_allclose(results[compiled.output("sum")], expected)
        assert results["scaled"].shape == (2, 3)
        assert list(results) == compiled.outputs
        assert results.names() == ("sum", "scaled")


def test_infer_request_sync(compiled: ov.CompiledModel) -> None:
    request = compiled.create_infer_request()
    data = two_inputs_data(2)
    results = request.infer(data)
    np.testing.assert_allclose(results["sum"], two_inputs_expected(data))
    np.testing.assert_allclose(request.results[0], two_inputs_expected(data))
    np.testing.assert_allclose(request.get_output_tensor(0).data, two_inputs_expected(data))
    np.testing.assert_allclose(request.get_tensor("sum").data, two_inputs_expected(data))
    assert request.latency > 0
    assert request.executed_on == "STANDIN"


def test_tensors_are_the_requests_own_memory(core: ov.Core) -> None:
    compiled = core.compile_model(models.tiny_mlp(batch=2), "STANDIN")
    request = compiled.create_infer_request()
    tensor = request.get_tensor("x")
    assert tensor.shape == (2, 16)
    x = np.random.default_rng(0).standard_normal((2, 16)).astype(np.float32)
    tensor.data[:] = x
    request.infer()
    np.testing.assert_allclose(request.results[0], compiled(x)[0], rtol=1e-6)
    # start_async without inputs uses the tensors already set
    request.get_input_tensor(0).data[:] = 2 * x
    request.start_async()
    request.wait()
    np.testing.assert_allclose(request.results[0], compiled(2 * x)[0], rtol=1e-6)


def test_share_inputs_false_copies_and_true_binds(compiled: ov.CompiledModel) -> None:
    request = compiled.create_infer_request()
    data = two_inputs_data(3)
    request.infer(data)
    assert not np.shares_memory(request.get_tensor("a").data, data["a"])
    request.infer(data, share_inputs=True)
    assert np.shares_memory(request.get_tensor("a").data, data["a"])


def test_start_async_wait_and_callback_with_userdata(compiled: ov.CompiledModel) -> None:
    request = compiled.create_infer_request()
    seen = []
    request.set_callback(lambda userdata: seen.append(userdata), "fixed")
    data = two_inputs_data(4)
    request.start_async(data)
    request.wait()
    assert seen == ["fixed"]
    request.start_async(data, userdata="per-call")
    assert request.wait_for(10_000)
    assert seen == ["fixed", "per-call"]
    np.testing.assert_allclose(request.results["sum"], two_inputs_expected(data))


def test_busy_request_raises_instead_of_being_corrupted(
    core: ov.Core, standin: StandInDevice, two_inputs_model: ov.Model
) -> None:
    standin.delay_ms = 200
    compiled = core.compile_model(two_inputs_model, "STANDIN")
    request = compiled.create_infer_request()
    first, second = two_inputs_data(5), two_inputs_data(6)
    request.start_async(first)
    assert not request.wait_for(1)
    with pytest.raises(ov.RequestBusyError):
        request.start_async(second)
    with pytest.raises(ov.RequestBusyError):
        request.infer(second)
    with pytest.raises(ov.RequestBusyError):
        request.set_tensor("a", second["a"])
    request.wait()
    np.testing.assert_allclose(request.results["sum"], two_inputs_expected(first))


def test_several_threads_wait_for_one_inference_and_the_request_starts_again(
    core: ov.Core, standin: StandInDevice, two_inputs_model: ov.Model
) -> None:
    standin.delay_ms = 100
    compiled = core.compile_model(two_inputs_model, "STANDIN")
    request = compiled.create_infer_request()
    data = two_inputs_data(7)
    request.start_async(data)
    ended = []

    def waiter(how: str) -> None:
        if how == "wait":
            request.wait()
            ended.append(True)
        else:
            ended.append(request.wait_for(10_000))

    threads = [threading.Thread(target=waiter, args=(h,)) for h in ("wait", "for") * 3]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert ended == [True] * 6
    assert not request.is_busy
    np.testing.assert_allclose(request.results["sum"], two_inputs_expected(data))
    assert request.wait_for(0)  # idle: done at once
    standin.delay_ms = 0
    for seed in range(3):  # starts again after the waits, each time
        data = two_inputs_data(seed)
        request.start_async(data)
        request.wait()
        np.testing.assert_allclose(request.results["sum"], two_inputs_expected(data))


def test_failed_inference_raises_on_wait_and_request_stays_usable(
    core: ov.Core, standin: StandInDevice, two_inputs_model: ov.Model
) -> None:
    standin.fail_when = lambda inputs: bool(inputs[0][0, 0] > 100)
    compiled = core.compile_model(two_inputs_model, "STANDIN")
    request = compiled.create_infer_request()
    called = []
    request.set_callback(called.append, "x")
    bad = two_inputs_data(7)
    bad["a"][0, 0] = 1000
    request.start_async(bad)
    with pytest.raises(ov.InferenceError, match="injected failure"):
        request.wait()
    assert called == []  # a failed inference skips the callback
    with pytest.raises(ov.InferenceError):
        request.infer(bad)
    good = two_inputs_data(8)
    np.testing.assert_allclose(request.infer(good)["sum"], two_inputs_expected(good))


def test_callback_exception_is_raised_by_wait(compiled: ov.CompiledModel) -> None:
    request = compiled.create_infer_request()

    def broken(_: object) -> None:
        raise ZeroDivisionError("in callback")

    request.set_callback(broken, None)
    request.start_async(two_inputs_data(9))
    with pytest.raises(ZeroDivisionError, match="in callback"):
        request.wait()


def test_cancel_before_it_runs(
    core: ov.Core, standin: StandInDevice, two_inputs_model: ov.Model
) -> None:
    standin.delay_ms = 300
    compiled = core.compile_model(two_inputs_model, "STANDIN")  # one stream
    blocker, victim = compiled.create_infer_request(), compiled.create_infer_request()
    blocker.start_async(two_inputs_data(10))
    victim.start_async(two_inputs_data(11))
    victim.cancel()
    with pytest.raises(ov.RequestCancelledError):
        victim.wait()
    blocker.wait()
    victim.infer(two_inputs_data(12))  # still usable
    assert standin_calls(compiled) == 2  # the cancelled job never ran


def standin_calls(compiled: ov.CompiledModel) -> int:
    return compiled.device_model.calls  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("inputs", "error", "words"),
    [
        (
            {"a": np.zeros((2, 5), np.float32), "b": np.zeros((2, 4), np.int64)},
            ov.InputShapeError,
            "'a' expects shape [?,4], got [2, 5]",
        ),
        (
            {"a": np.zeros((2, 4), np.float32), "b": np.zeros((2, 4), np.float32)},
            ov.InputTypeError,
            "'b' expects i64",
        ),
        ({"a": np.zeros((2, 4), np.float32)}, ov.MissingInputError, "'b'"),
        ({"c": np.zeros((2, 4), np.float32)}, ov.InputNameError, "'c'"),
        ({"a": [[0.0] * 4] * 2, "b": np.zeros((2, 4), np.int64)}, ov.InputTypeError, "numpy array"),
        ({"a": "text", "b": np.zeros((2, 4), np.int64)}, ov.InputTypeError, "got str"),
        (np.zeros((2, 4), np.float32), ov.MissingInputError, "2 inputs"),
    ],
)
def test_bad_inputs_are_typed_errors_and_the_request_stays_usable(
    compiled: ov.CompiledModel, inputs: object, error: type, words: str
) -> None:
    request = compiled.create_infer_request()
    with pytest.raises(error) as info:
        request.infer(inputs)
    assert words in str(info.value)
    with pytest.raises(error):
        request.start_async(inputs)
    assert not request.is_busy
    good = two_inputs_data(13)
    np.testing.assert_allclose(request.infer(good)["sum"], two_inputs_expected(good))


def test_safe_conversions_are_applied_and_nan_is_accepted(compiled: ov.CompiledModel) -> None:
    data = {"a": np.full((1, 4), np.nan, dtype=np.float64), "b": np.ones((1, 4), dtype=np.int32)}
    results = compiled(data)
    assert np.isnan(results["sum"]).all()
    with pytest.raises(ov.InputTypeError, match="does not convert safely"):
        compiled({"a": np.zeros((1, 4), np.float32), "b": np.zeros((1, 4), np.float32)})


def test_compiled_model_call_is_thread_safe(core: ov.Core, two_inputs_model: ov.Model) -> None:
    compiled = core.compile_model(two_inputs_model, "STANDIN", {"PERFORMANCE_HINT": "THROUGHPUT"})
    failures = []

    def worker(seed: int) -> None:
        for i in range(20):
            data = two_inputs_data(seed * 100 + i)
            got = compiled(data)["sum"]
            if not np.allclose(got, two_inputs_expected(data)):
                failures.append((seed, i))

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_profiling_info_when_enabled(core: ov.Core, two_inputs_model: ov.Model) -> None:
    compiled = core.compile_model(
        two_inputs_model, "STANDIN", {ov.properties.enable_profiling: True}
    )
    request = compiled.create_infer_request()
    request.infer(two_inputs_data(14))
    info = request.profiling_info
    assert info and info[0].exec_type == "reference" and info[0].real_time_us >= 0
    plain = core.compile_model(two_inputs_model, "STANDIN").create_infer_request()
    plain.infer(two_inputs_data(14))
    assert plain.profiling_info == []


def test_closed_compiled_model_cancels_new_jobs(core: ov.Core, two_inputs_model: ov.Model) -> None:
    compiled = core.compile_model(two_inputs_model, "STANDIN")
    request = compiled.create_infer_request()
    request.start_async(two_inputs_data(15))
    compiled.close()
    request.wait()  # the job queued before close still finished
    request.start_async(two_inputs_data(16))
    with pytest.raises(ov.RequestCancelledError, match="closed"):
        request.wait()


def test_two_devices_from_one_plugin_object(two_inputs_model: ov.Model) -> None:
    core = ov.Core()
    core.register_plugin(
        StandInPlugin(StandInDevice("STANDIN"), StandInDevice("OTHER")), name="two"
    )
    assert {"STANDIN", "OTHER"} <= set(core.available_devices)
    assert core.compile_model(two_inputs_model, "other").device_name == "OTHER"


def test_dropped_compiled_model_stops_its_worker_threads(two_inputs_model: ov.Model) -> None:
    import gc

    core = ov.Core()
    core.register_plugin(StandInPlugin(StandInDevice("DROPPED")), name="dropped")
    compiled = core.compile_model(two_inputs_model, "DROPPED", {"PERFORMANCE_HINT": "THROUGHPUT"})
    request = compiled.create_infer_request()
    request.start_async(two_inputs_data(17))
    request.wait()
    workers = [t for t in threading.enumerate() if t.name.startswith("DROPPED-stream")]
    assert len(workers) == 2
    del compiled, request
    gc.collect()
    for thread in workers:
        thread.join(timeout=10)
    assert not any(t.is_alive() for t in workers)


def test_configured_timeout_fails_the_request_and_drops_the_late_result(
    core: ov.Core, standin: StandInDevice, two_inputs_model: ov.Model
) -> None:
    # a device that hangs for a second on marked inputs; four streams, so the other
    # requests never wait behind the hanging ones
    standin.delay_when = lambda inputs: 1000.0 if inputs[0][0, 0] == 1000.0 else 0.0
    slow = two_inputs_data(18)
    slow["a"][0, 0] = 1000.0
    compiled = core.compile_model(
        two_inputs_model, "STANDIN", {ov.properties.inference_timeout: 100, "NUM_STREAMS": 4}
    )
    assert compiled.get_property("OVLITE_INFERENCE_TIMEOUT") == 100
    request = compiled.create_infer_request()
    with pytest.raises(ov.RequestTimeoutError, match="within 100 ms"):
        request.infer(slow)
    request.start_async(slow)
    with pytest.raises(ov.RequestTimeoutError):
        request.wait()
    good = two_inputs_data(19)
    request.start_async(good)
    request.wait()
    np.testing.assert_allclose(request.results["sum"], two_inputs_expected(good))
    with pytest.raises(ov.RequestTimeoutError):
        compiled(slow)
    threading.Event().wait(1.2)  # let the late results arrive: they must go nowhere
    np.testing.assert_allclose(request.results["sum"], two_inputs_expected(good))
    queue = ov.AsyncInferQueue(compiled, 2)
    done = []
    queue.set_callback(lambda r, u: done.append(u))
    queue.start_async(slow, userdata="slow")
    queue.start_async(good, userdata="good")
    with pytest.raises(ov.RequestTimeoutError):
        queue.wait_all()
    assert done == ["good"]


def test_a_closed_model_refuses_with_device_closed_error(
    core: ov.Core, two_inputs_model: ov.Model
) -> None:
    compiled = core.compile_model(two_inputs_model, "STANDIN")
    compiled.close()
    with pytest.raises(ov.DeviceClosedError, match="closed") as caught:
        compiled(two_inputs_data(17))
    assert isinstance(caught.value, ov.RequestCancelledError)  # what callers catch today


def test_only_a_failed_job_can_be_reopened() -> None:
    from ovlite.jobs import Job

    seen: list[object] = []
    job = Job([], seen.append)
    assert job.begin()
    job.set_error(ov.InferenceError("boom"))
    error = job.reopen(lambda done: seen.append(("again", done.outputs)))
    assert isinstance(error, ov.InferenceError) and job.error is None and not job.done
    job.set_result([np.zeros(1)])
    assert len(seen) == 2 and seen[1][0] == "again"
    with pytest.raises(ov.PluginError, match="just failed"):
        job.reopen(None)  # it succeeded this time
