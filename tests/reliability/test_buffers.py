"""Buffer sharing and result lifetime.

An array bound with ``share_inputs=True`` or ``set_tensor`` stays the caller's: a later
copying call on the same request copies into the request's own memory, never into it.
Read-only arrays work everywhere.  Results are fresh arrays that no later inference writes.
"""

from __future__ import annotations

import numpy as np
import pytest
from _reliability import MLP, Reference, assert_matches, in_thread, make_core, unique_inputs

import ovlite as ov
from ovlite.testing import SimulatedDevice

DEVICES = ["CPU", "SIMX", "BATCH:SIMX(2)", "MULTI:CPU,SIMX", "HETERO:CPU"]


def compile_on(device: str) -> ov.CompiledModel:
    core = make_core(SimulatedDevice("SIMX"))
    if "CPU" in device and "CPU" not in core.available_devices:
        pytest.skip("CPU is not available")
    return core.compile_model(MLP, device)


def read_only(array: np.ndarray) -> np.ndarray:
    array = array.copy()
    array.flags.writeable = False
    return array


def run(request: ov.InferRequest, how: str, x: np.ndarray, share: bool = False) -> np.ndarray:
    """One inference on ``request`` through ``infer`` or ``start_async`` + ``wait``."""
    if how == "infer":
        return request.infer({"x": x}, share_inputs=share)[0]
    request.start_async({"x": x}, share_inputs=share)
    in_thread(request.wait, "wait()")
    return request.results[0]


@pytest.mark.parametrize("how", ["infer", "start_async"])
@pytest.mark.parametrize("device", DEVICES)
def test_a_shared_input_is_never_written_by_a_later_copying_call(
    device: str, how: str, reference: Reference
) -> None:
    compiled = compile_on(device)
    request = compiled.create_infer_request()
    shared, other = unique_inputs(2, seed=60)
    kept = shared.copy()
    assert_matches(run(request, how, shared, share=True), reference(kept), "shared input")
    assert_matches(run(request, how, other), reference(other), "the copying call after it")
    np.testing.assert_array_equal(shared, kept, err_msg="the caller's shared array was written")
    compiled.close()


@pytest.mark.parametrize("how", ["infer", "start_async"])
@pytest.mark.parametrize("device", DEVICES)
def test_read_only_arrays_work_however_they_are_bound(
    device: str, how: str, reference: Reference
) -> None:
    compiled = compile_on(device)
    request = compiled.create_infer_request()
    a, b, c = (read_only(x) for x in unique_inputs(3, seed=61))
    assert_matches(run(request, how, a, share=True), reference(a), "read-only, shared")
    assert_matches(run(request, how, b), reference(b), "read-only, copied after sharing")
    request.set_tensor("x", ov.Tensor(c))
    assert_matches(run(request, how, a), reference(a), "copied after set_tensor(read-only)")
    request.set_tensor("x", c)
    assert_matches(run(request, how, c, share=True), reference(c), "set_tensor, then shared")
    assert_matches(compiled({"x": b})[0], reference(b), "compiled(read-only)")
    compiled.close()


@pytest.mark.parametrize("device", DEVICES)
def test_results_are_never_written_by_a_later_inference(device: str, reference: Reference) -> None:
    compiled = compile_on(device)
    request = compiled.create_infer_request()
    x, y = unique_inputs(2, seed=62)
    first = request.infer({"x": x})[0]
    from_tensor = request.get_output_tensor(0).data
    request.infer({"x": y})
    assert_matches(first, reference(x), "the first results after a second inference")
    assert_matches(from_tensor, reference(x), "the first output tensor after a second inference")
    compiled.close()
