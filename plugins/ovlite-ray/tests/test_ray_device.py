"""The RAY device beyond the conformance suite: device strings, settings, replica counts and
resources, what replicas report, and the replica device being a meta device itself."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest
import ray
from ovlite_ray import keys
from ovlite_ray.cluster import default_resources, replicas_that_fit

import ovlite as ov
from ovlite import models
from ovlite.testing.data import random_inputs


@pytest.fixture(scope="module")
def mlp() -> ov.Model:
    return ov.read_model(models.tiny_mlp(batch=None))


@pytest.fixture
def core() -> ov.Core:
    return ov.Core()


def expected(model: ov.Model, data: dict) -> np.ndarray:
    return np.array(ov.Core().compile_model(model, "CPU")(data)[0])


@pytest.mark.parametrize(
    ("device", "problem"),
    [
        ("RAY", "needs the device its replicas run on"),
        ("RAY:CPU,CPU", "MULTI:CPU,RAY:CPU"),
        ("RAY:-CPU", "cannot exclude"),
    ],
)
def test_device_strings_ray_cannot_use_say_why(core, mlp, device, problem) -> None:
    with pytest.raises(ov.DeviceStringError, match=problem):
        core.compile_model(mlp, device)


def test_a_setting_for_the_replica_device_points_to_device_properties(core, mlp) -> None:
    with pytest.raises(
        ov.UnknownPropertyError, match="RAY.*INFERENCE_NUM_THREADS.*DEVICE_PROPERTIES"
    ):
        core.compile_model(mlp, "RAY:CPU", {"INFERENCE_NUM_THREADS": 1})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("RAY_REPLICAS", -1),
        ("RAY_REPLICAS", "many"),
        ("RAY_REPLICA_RESOURCES", "CPU"),
        ("RAY_REPLICA_RESOURCES", {"CPU": -1}),
        ("RAY_REPLICA_HINT", "FASTEST"),
        ("RAY_RUNTIME_ENV", ["ovlite"]),
    ],
)
def test_bad_values_are_refused_naming_the_property(core, mlp, key, value) -> None:
    with pytest.raises(ov.PropertyValueError, match=key):
        core.compile_model(mlp, "RAY:CPU", {key: value})


def test_device_defaults_can_be_read(core) -> None:
    assert core.get_property("RAY", "RAY_REPLICAS") == 0  # as many as fit
    assert core.get_property("RAY", "RAY_ADDRESS") == ""
    assert core.get_property("RAY", "RAY_REPLICA_HINT") == "THROUGHPUT"


def test_replica_count_and_resources_rules() -> None:
    assert default_resources(ov.parse_device("CPU")) == {"CPU": 1.0}
    assert default_resources(ov.parse_device("MULTI:GPU,CPU")) == {"CPU": 1.0, "GPU": 1.0}
    assert replicas_that_fit({"CPU": 1.0}, {"CPU": 6.0}) == 6
    assert replicas_that_fit({"CPU": 1.0, "GPU": 1.0}, {"CPU": 6.0, "GPU": 2.0}) == 2
    assert replicas_that_fit({"CPU": 2.0}, {"CPU": 1.0}) == 1  # the one waits for resources
    assert keys.to_replica_count("AUTO") == 0


def test_by_default_as_many_replicas_as_the_free_resources_hold(core, mlp) -> None:
    cpus = ray.cluster_resources()["CPU"]
    deadline = time.monotonic() + 60  # resources of models closed by earlier tests come back
    while ray.available_resources().get("CPU", 0) < cpus and time.monotonic() < deadline:
        time.sleep(0.2)
    compiled = core.compile_model(mlp, "RAY:CPU", {"RAY_REPLICA_RESOURCES": {"CPU": 2}})
    try:
        assert compiled.get_property("RAY_REPLICAS") == cpus // 2
        assert compiled.get_property("RAY_REPLICA_RESOURCES") == {"CPU": 2.0}
    finally:
        compiled.close()


def test_optimal_requests_are_the_sum_of_the_replicas_and_settings_reach_them(core, mlp) -> None:
    per_replica = {"DEVICE_PROPERTIES": {"CPU": {"NUM_STREAMS": 2}}}
    compiled = core.compile_model(mlp, "RAY:CPU", {"RAY_REPLICAS": 2, **per_replica})
    try:
        replicas = compiled.device_model.replicas()
        assert len(replicas) == 2
        optimal = compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")
        assert optimal == sum(r.facts["optimal_requests"] for r in replicas)
        assert all("NUM_STREAMS=2" in r.facts["reason"] for r in replicas)
        # the model went to each replica once, as bytes, when it started
        assert {r.facts["model_bytes"] for r in replicas} == {len(mlp.to_bytes())}
    finally:
        compiled.close()


def test_replicas_may_run_a_meta_device(core, mlp) -> None:
    compiled = core.compile_model(mlp, "RAY:MULTI:CPU,CPU", {"RAY_REPLICAS": 1})
    try:
        data = random_inputs(mlp.inputs, 7, dynamic_dim=3)
        request = compiled.create_infer_request()
        request.infer(data)
        np.testing.assert_allclose(request.results[0], expected(mlp, data), rtol=1e-4, atol=1e-5)
        assert request.executed_on == "RAY:MULTI:CPU,CPU"
        assert compiled.device_model.replicas()[0].facts["execution_devices"] == ["CPU", "CPU"]
    finally:
        compiled.close()


def test_a_replica_device_that_cannot_compile_is_a_compile_error(core, mlp) -> None:
    with pytest.raises(ov.CompileError, match="NOPE"):
        core.compile_model(mlp, "RAY:NOPE", {"RAY_REPLICAS": 1})


def test_closing_returns_the_replicas_resources(core, mlp) -> None:
    compiled = core.compile_model(mlp, "RAY:CPU", {"RAY_REPLICAS": 1})
    actor = compiled.device_model.replicas()[0].actor
    compiled.close()
    # ray.kill is asynchronous: a call made right after it may still be answered
    deadline = time.monotonic() + 60
    while True:
        try:
            ray.get(actor.describe.remote(), timeout=60)
        except ray.exceptions.RayActorError:
            break
        assert time.monotonic() < deadline, "the replica's actor still answers 60 s after close()"
        time.sleep(0.1)


def test_ray_settings_are_known_on_the_first_compile_of_a_fresh_process() -> None:
    # plugins load on the first compile, and their property keys with them: the setting must
    # be recognised (here the device string is refused next, before Ray is contacted)
    program = (
        "import ovlite as ov\n"
        "from ovlite import models\n"
        "try:\n"
        "    ov.Core().compile_model(models.tiny_mlp(), 'RAY:CPU,CPU', {'RAY_REPLICAS': 1})\n"
        "except ov.DeviceStringError:\n"
        "    print('refused the device string')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=120
    )
    assert result.stdout.strip() == "refused the device string", result.stderr


def test_large_outputs_come_back_mapped_from_the_object_store(core) -> None:
    from onnx import TensorProto, helper

    shape = [4, 256, 256]  # 1 MiB of float32: over Ray's inline limit
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "relu",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)],
    )
    model = ov.read_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))
    compiled = core.compile_model(model, "RAY:CPU", {"RAY_REPLICAS": 1})
    try:
        data = np.random.default_rng(0).standard_normal(shape, dtype=np.float32)
        result = compiled({"x": data})[0]
        np.testing.assert_array_equal(result, np.maximum(data, 0))
        assert not result.flags.writeable, "a zero-copy view of the object store is read-only"
    finally:
        compiled.close()


def test_an_explicit_address_of_the_connected_cluster_is_used(core, mlp, ray_instance) -> None:
    compiled = core.compile_model(mlp, "RAY:CPU", {"RAY_REPLICAS": 1, "RAY_ADDRESS": ray_instance})
    try:
        assert compiled.get_property("RAY_ADDRESS") == ray_instance
        assert ray_instance.startswith("127.0.0.1:"), "the local instance listens on loopback"
    finally:
        compiled.close()
