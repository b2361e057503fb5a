"""openvino raises RuntimeError for bad input names, shapes, models and properties: ovlite's typed
errors are RuntimeErrors too, so ``except RuntimeError:`` in ported code still catches them."""

from __future__ import annotations

import numpy as np
import pytest

import ovlite as ov
from ovlite import models


@pytest.fixture(scope="module")
def compiled() -> ov.CompiledModel:
    return ov.Core().compile_model(models.tiny_mlp(batch=1), "CPU")


def test_bad_input_name_is_a_runtime_error_and_still_a_key_error(compiled) -> None:
    with pytest.raises(RuntimeError) as info:
        compiled({"nope": np.zeros((1, 16), np.float32)})
    assert isinstance(info.value, ov.InputNameError) and isinstance(info.value, KeyError)
    assert "'nope'" in str(info.value) and "'x'" in str(info.value)


def test_bad_input_shape_is_a_runtime_error_and_still_a_value_error(compiled) -> None:
    with pytest.raises(RuntimeError) as info:
        compiled({"x": np.zeros((1, 15), np.float32)})
    assert isinstance(info.value, ov.InputShapeError) and isinstance(info.value, ValueError)
    assert "15" in str(info.value)


def test_bad_port_index_unknown_device_and_property_are_runtime_errors(compiled) -> None:
    with pytest.raises(RuntimeError, match="index 5"):
        compiled.input(5)
    with pytest.raises(RuntimeError, match="NOPE"):
        ov.Core().get_property("NOPE", "FULL_DEVICE_NAME")
    with pytest.raises(RuntimeError):
        ov.Core().get_property("CPU", "NO_SUCH_PROPERTY")


def test_unreadable_model_is_a_runtime_error(tmp_path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(RuntimeError) as info:
        ov.Core().read_model(bad)
    assert isinstance(info.value, ov.ModelError)


@pytest.mark.parametrize(
    "error",
    [
        ov.InputError,
        ov.InputNameError,
        ov.InputShapeError,
        ov.InputTypeError,
        ov.MissingInputError,
        ov.ModelError,
        ov.PropertyError,
        ov.DeviceNotFoundError,
        ov.DeviceStringError,
        ov.CompileError,
        ov.InferenceError,
    ],
)
def test_every_error_a_ported_program_meets_is_a_runtime_error(error) -> None:
    assert issubclass(error, RuntimeError) and issubclass(error, ov.OvliteError)


def test_an_input_key_of_the_wrong_kind_is_a_type_error_naming_it(compiled) -> None:
    with pytest.raises(TypeError) as info:
        compiled({0.0: np.zeros((1, 16), np.float32)})
    assert isinstance(info.value, ov.InputKeyTypeError) and isinstance(info.value, RuntimeError)
    assert "0.0" in str(info.value) and "float" in str(info.value)


def test_a_model_argument_of_the_wrong_kind_is_a_type_error_naming_it() -> None:
    class NotAPath:
        def __str__(self) -> str:
            return "not a path"

    with pytest.raises(TypeError) as info:
        ov.Core().read_model(model=3, weights=3)  # the model is checked before the weights
    assert isinstance(info.value, ov.ModelTypeError) and "<class 'int'>" in str(info.value)
    with pytest.raises(RuntimeError, match="not a path"):
        ov.compile_model(NotAPath())
