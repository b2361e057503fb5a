"""Bad input: each mistake gets a typed ovlite error naming the offending value and what was
expected, and leaves the request (or queue, or Core) usable.

Inputs, model files, device strings (property-based over the grammar, with hypothesis) and
properties.  Conversions the user guide allows ("same kind": float64 -> float32, int -> float,
int64 -> int32, ...) are accepted and checked to compute on the converted values.
"""

from __future__ import annotations

import asyncio
import re
import string
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from _reliability import MLP, MLP_PROTO, Reference, assert_matches, in_thread, make_core
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import ovlite as ov
import ovlite.properties as props
from ovlite import models
from ovlite.testing import SimulatedDevice

#: Deterministic and quick: a fixed seed, no example database written into the repository.
PROPERTY_SETTINGS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=300,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

GOOD = np.linspace(-1, 1, 16, dtype=np.float32).reshape(1, 16)


@pytest.fixture(scope="module")
def core() -> ov.Core:
    return make_core(SimulatedDevice("SIMX"), SimulatedDevice("SIMY"))


@pytest.fixture(params=["SIMX", "CPU"])
def compiled(request: pytest.FixtureRequest, core: ov.Core) -> Iterator[ov.CompiledModel]:
    if request.param not in core.available_devices:
        pytest.skip(f"{request.param} is not installed")
    model = core.compile_model(MLP, request.param, {"PERFORMANCE_HINT": "THROUGHPUT"})
    yield model
    model.close()


# ---- inputs ---------------------------------------------------------------------------------

#: (id, inputs, error type, the built-in it also is, fragments the message must contain)
BAD_INPUTS = [
    ("batch", {"x": np.zeros((2, 16), np.float32)}, ov.InputShapeError, ValueError,
     ["'x'", "[1,16]", "[2, 16]"]),
    ("rank", {"x": np.zeros(16, np.float32)}, ov.InputShapeError, ValueError,
     ["'x'", "[1,16]", "[16]"]),
    ("scalar", {"x": np.float32(1.0)}, ov.InputShapeError, ValueError, ["'x'", "[1,16]", "[]"]),
    ("empty", {"x": np.zeros((0, 16), np.float32)}, ov.InputShapeError, ValueError,
     ["'x'", "[0, 16]"]),
    ("complex", {"x": np.zeros((1, 16), np.complex64)}, ov.InputTypeError, TypeError,
     ["'x'", "f32", "complex64"]),
    ("strings", {"x": np.full((1, 16), "0.5")}, ov.InputTypeError, TypeError, ["'x'", "<U3"]),
    ("objects", {"x": np.zeros((1, 16), object)}, ov.InputTypeError, TypeError,
     ["'x'", "object"]),
    ("datetimes", {"x": np.zeros((1, 16), "datetime64[s]")}, ov.InputTypeError, TypeError,
     ["'x'", "datetime64"]),
    ("str", {"x": "0.5"}, ov.InputTypeError, TypeError, ["'x'", "str"]),
    ("object", {"x": object()}, ov.InputTypeError, TypeError, ["'x'", "object"]),
    ("None", {"x": None}, ov.InputTypeError, TypeError, ["'x'", "NoneType"]),
    ("nested list", {"x": [[0.5] * 16]}, ov.InputTypeError, TypeError,
     ["'x'", "list", "numpy.asarray"]),
    ("unknown name", {"z": GOOD}, ov.InputNameError, KeyError, ["'z'", "'x'"]),
    ("index", {3: GOOD}, ov.InputNameError, KeyError, ["index 3", "1 input"]),
    ("key type", {2.5: GOOD}, ov.InputNameError, KeyError, ["float"]),
    ("flat list", [0.5] * 16, ov.InputTypeError, TypeError,
     ["16 numbers", "1 input", "'x'", "numpy.asarray"]),
]  # fmt: skip


def entry_points(compiled: ov.CompiledModel) -> dict[str, Callable[[Any, ov.InferRequest], Any]]:
    """Every way to hand inputs to a compiled model, each on the given request (or its model)."""

    def start_async(inputs: Any, request: ov.InferRequest) -> None:
        request.start_async(inputs)
        request.wait()

    def request_asyncio(inputs: Any, request: ov.InferRequest) -> Any:
        return asyncio.run(request.infer_async(inputs))

    return {
        "infer": lambda inputs, request: request.infer(inputs),
        "start_async": start_async,
        "request.infer_async": request_asyncio,
        "compiled()": lambda inputs, request: compiled(inputs),
        "compiled.infer_async": lambda inputs, request: asyncio.run(compiled.infer_async(inputs)),
    }


@pytest.mark.parametrize(
    ("inputs", "error", "builtin", "fragments"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_INPUTS],
)
def test_bad_inputs_raise_a_typed_error_naming_value_and_expectation_and_change_nothing(
    compiled: ov.CompiledModel,
    reference: Reference,
    inputs: Any,
    error: type[Exception],
    builtin: type[Exception],
    fragments: list[str],
) -> None:
    request = compiled.create_infer_request()
    request.infer({"x": GOOD})
    for name, call in entry_points(compiled).items():
        with pytest.raises(error) as info:
            in_thread(lambda call=call: call(inputs, request), f"{name} with a bad input")
        assert isinstance(info.value, ov.OvliteError) and isinstance(info.value, builtin)
        for fragment in fragments:
            assert fragment in str(info.value), f"{name}: {fragment!r} not in {info.value}"
        assert not request.is_busy, f"{name}: a bad input left the request busy"
        # the request is usable, and kept its inputs: a start without inputs reuses GOOD
        assert_matches(request.infer()[0], reference(GOOD), f"after {name}")

    queue = ov.AsyncInferQueue(compiled, 2)
    seen: list[int] = []
    queue.set_callback(lambda r, userdata: seen.append(userdata))
    for _ in range(3):
        with pytest.raises(error):
            queue.start_async(inputs, userdata=-1)
        assert queue.is_ready()
    for i in range(4):  # no request was lost from the pool
        in_thread(lambda i=i: queue.start_async({"x": GOOD}, userdata=i), "queue.start_async")
    in_thread(queue.wait_all, "queue.wait_all()")
    assert sorted(seen) == [0, 1, 2, 3]


def test_missing_inputs_name_what_is_missing(core: ov.Core) -> None:
    compiled = core.compile_model(models.two_inputs(), "SIMX")
    a, b = np.ones((2, 4), np.float32), np.ones((2, 4), np.int64)
    request = compiled.create_infer_request()
    for call in (request.infer, compiled, lambda x: asyncio.run(compiled.infer_async(x))):
        with pytest.raises(ov.MissingInputError, match="'b'"):
            call({"a": a})
        with pytest.raises(ov.MissingInputError, match="'b'"):
            call([a])
        with pytest.raises(ov.MissingInputError, match="2 inputs"):
            call(a)  # one array for a model with two inputs
    assert not request.is_busy
    results = request.infer({"a": a, "b": b})
    np.testing.assert_array_equal(results["sum"], a + b)


def test_inputs_disagreeing_on_a_shared_dimension_are_a_shape_error(core: ov.Core) -> None:
    compiled = core.compile_model(models.two_inputs(), "SIMX")
    with pytest.raises(ov.InputShapeError, match="batch"):
        compiled({"a": np.ones((2, 4), np.float32), "b": np.ones((3, 4), np.int64)})


#: dtype given -> accepted for the f32 input "x" (NumPy "same kind" casts, as documented)
SAFE_FOR_F32 = [np.float64, np.float16, np.int64, np.int32, np.int8, np.uint8, np.bool_]


@pytest.mark.parametrize("dtype", SAFE_FOR_F32, ids=lambda d: np.dtype(d).name)
def test_documented_conversions_are_accepted_and_computed_on_the_converted_values(
    compiled: ov.CompiledModel, reference: Reference, dtype: type
) -> None:
    x = (np.arange(16).reshape(1, 16) % 3).astype(dtype)
    want = reference(x.astype(np.float32))
    request = compiled.create_infer_request()
    assert_matches(request.infer({"x": x})[0], want, f"{np.dtype(dtype).name} input")
    assert_matches(compiled({"x": x})[0], want, f"{np.dtype(dtype).name} input, compiled()")


def test_conversions_for_an_integer_input(core: ov.Core) -> None:
    compiled = core.compile_model(models.two_inputs(), "SIMX")
    a = np.ones((2, 4), np.float32)
    b = np.arange(8).reshape(2, 4)
    for dtype in (np.int64, np.int32, np.uint8, np.bool_):  # accepted
        results = compiled({"a": a, "b": b.astype(dtype)})
        np.testing.assert_array_equal(results["sum"], a + b.astype(dtype).astype(np.float32))
    for dtype in (np.float32, np.float64, np.complex64):  # float -> int would truncate: refused
        with pytest.raises(ov.InputTypeError) as info:
            compiled({"a": a, "b": b.astype(dtype)})
        message = str(info.value)
        assert "'b'" in message and "i64" in message and np.dtype(dtype).name in message


def test_nan_and_infinity_are_data_not_errors(
    compiled: ov.CompiledModel, reference: Reference
) -> None:
    x = GOOD.copy()
    x[0, 3], x[0, 5], x[0, 7] = np.nan, np.inf, -np.inf
    request = compiled.create_infer_request()
    with np.errstate(all="ignore"):
        want = reference(x)
    got = request.infer({"x": x})[0]
    np.testing.assert_allclose(got, want, rtol=1e-5, equal_nan=True)
    # nothing of the NaN stays behind in the request or the device
    assert_matches(request.infer({"x": GOOD})[0], reference(GOOD), "after NaN")
    assert_matches(compiled({"x": GOOD})[0], reference(GOOD), "after NaN, compiled()")


# ---- model files ----------------------------------------------------------------------------

GOOD_BYTES = MLP_PROTO.SerializeToString()


def model_with_opset(version: int, domain: str = "") -> onnx.ModelProto:
    model = models.tiny_mlp(batch=1)
    if domain:
        model.opset_import.append(onnx.helper.make_opsetid(domain, version))
    else:
        model.opset_import[0].version = version
    return model


BAD_FILES: list[tuple[str, bytes, list[str]]] = [
    ("empty", b"", ["empty"]),
    ("half", GOOD_BYTES[: len(GOOD_BYTES) // 2], ["not a valid ONNX model"]),
    ("one byte short", GOOD_BYTES[:-1], ["not a valid ONNX model"]),
    ("text", b"this is not a model\n", ["not a valid ONNX model"]),
    ("png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, ["not a valid ONNX model"]),
    ("json", b'{"model": "tiny_mlp"}', ["not a valid ONNX model"]),
    ("zeros", bytes(4096), []),
    ("no graph", onnx.ModelProto(ir_version=8).SerializeToString(), ["no ONNX graph"]),
    (
        "newer opset",
        model_with_opset(onnx.defs.onnx_opset_version() + 7).SerializeToString(),
        [f"opset {onnx.defs.onnx_opset_version() + 7}", str(onnx.defs.onnx_opset_version())],
    ),
    (
        "newer IR version",
        onnx.helper.make_model(
            MLP_PROTO.graph,
            opset_imports=list(MLP_PROTO.opset_import),
            ir_version=onnx.IR_VERSION + 5,
        ).SerializeToString(),
        [f"ir_version {onnx.IR_VERSION + 5}"],
    ),
]


@pytest.mark.parametrize(("data", "fragments"), [pytest.param(*c[1:], id=c[0]) for c in BAD_FILES])
def test_a_bad_model_file_is_a_model_error_naming_file_and_problem(
    tmp_path: Path, core: ov.Core, data: bytes, fragments: list[str]
) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(data)
    for source, origin in ((str(path), str(path)), (path, str(path)), (data, "the given bytes")):
        for call in (ov.read_model, lambda s: core.compile_model(s, "SIMX")):
            with pytest.raises(ov.ModelError) as info:
                call(source)
            message = str(info.value)
            assert origin in message, message
            for fragment in fragments:
                assert fragment in message, f"{fragment!r} not in {message}"
            assert isinstance(info.value, ValueError)
    assert_matches_core(core)


def assert_matches_core(core: ov.Core) -> None:
    """The Core still compiles and runs a good model afterwards."""
    assert core.compile_model(MLP, "SIMX")({"x": GOOD})[0].shape == (1, 8)


def test_every_truncation_of_a_model_is_refused_cleanly() -> None:
    refused = 0
    for length in range(len(GOOD_BYTES)):
        try:
            ov.read_model(GOOD_BYTES[:length])
        except ov.ModelError:
            refused += 1
    assert refused == len(GOOD_BYTES), "a truncated model was read as if whole"


def test_missing_file_directory_and_wrong_types_are_model_errors(tmp_path: Path) -> None:
    with pytest.raises(ov.ModelError, match="no such file") as info:
        ov.read_model(tmp_path / "missing.onnx")
    assert "missing.onnx" in str(info.value)
    with pytest.raises(ov.ModelError, match=re.escape(str(tmp_path))) as info:
        ov.read_model(tmp_path)
    assert "folder" in str(info.value) and ".onnx" in str(info.value)
    for wrong in (123, None, ["model.onnx"], object()):
        with pytest.raises(ov.ModelError, match=type(wrong).__name__):
            ov.read_model(wrong)  # type: ignore[arg-type]


@pytest.mark.skipif("CPU" not in ov.Core().available_devices, reason="ovlite-cpu not installed")
def test_an_operator_no_device_supports_is_a_compile_error_naming_it() -> None:
    node = onnx.helper.make_node("FooBar", ["x"], ["y"], domain="com.example")
    graph = onnx.helper.make_graph(
        [node],
        "custom",
        [onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 4])],
        [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 4])],
    )
    model = onnx.helper.make_model(
        graph,
        opset_imports=[
            onnx.helper.make_opsetid("", 17),
            onnx.helper.make_opsetid("com.example", 1),
        ],
        # onnx's default IR version may be newer than the installed ONNX Runtime reads
        # (onnxruntime-openvino 1.24 reads up to 13); the test is about the operator
        ir_version=10,
    )
    core = ov.Core()
    with pytest.raises(ov.CompileError, match="FooBar") as info:
        core.compile_model(model, "CPU")
    assert "CPU" in str(info.value)
    with pytest.raises(ov.OvliteError, match="FooBar"):
        core.compile_model(model, "AUTO:CPU")
    assert core.compile_model(MLP, "CPU")({"x": GOOD})[0].shape == (1, 8)


# ---- device strings: property-based over the grammar ---------------------------------------
#
#   spec := item | NAME[.ID] ":" child ("," child)*     child := "-" device | item | composite
#   item := device ["(" INT ")"]                         device := NAME ["." ID]
#
# Spaces are allowed before a name or a number, after "-" and ".", and before ":", "(", ")",
# "," and the end; names are case-insensitive.

NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,5}", fullmatch=True)
IDS = st.from_regex(r"[A-Za-z0-9_]{1,3}(\.[A-Za-z0-9_]{1,3}){0,2}", fullmatch=True)
SPACES = st.sampled_from(["", "", " ", "  "])


@st.composite
def spelled_specs(
    draw: st.DrawFn, prefix: str = "", depth: int = 0, child: bool = False, last: bool = True
) -> tuple[str, str]:
    """(a spelling, with any case and spaces, of a valid device string; its canonical form)."""

    def gap() -> str:
        return draw(SPACES)

    excluded = child and draw(st.booleans())
    name = prefix + draw(NAMES)
    device_id = draw(st.none() | IDS)
    text = gap() + ("-" + gap() if excluded else "") + name
    canonical = ("-" if excluded else "") + name.upper()
    if device_id is not None:
        text += "." + gap() + device_id
        canonical += "." + device_id
    # a nested composite takes the rest of its list, so only the last child may be one
    if not excluded and last and depth < 3 and draw(st.booleans()):
        count = draw(st.integers(1, 3))
        children = [
            draw(spelled_specs(prefix, depth + 1, child=True, last=k == count - 1))
            for k in range(count)
        ]
        text += gap() + ":" + ",".join(spelling for spelling, _ in children)
        canonical += ":" + ",".join(form for _, form in children)
    elif not excluded and draw(st.booleans()):
        number = draw(st.integers(1, 10**12))
        text += gap() + "(" + gap() + str(number) + gap() + ")"
        canonical += f"({number})"
    return text + gap(), canonical


def assert_parses_or_points_at_the_problem(text: str) -> None:
    try:
        spec = ov.parse_device(text)
    except ov.DeviceStringError as error:
        assert isinstance(error, ValueError)
        assert 0 <= error.position <= len(text), (text, error.position)
        assert repr(text) in str(error)
        assert error.problem and error.problem in str(error)
    else:
        assert ov.parse_device(str(spec)) == spec
        assert str(ov.parse_device(str(spec))) == str(spec)


@PROPERTY_SETTINGS
@given(spelled_specs())
def test_every_spelling_of_a_valid_string_parses_to_its_canonical_form(
    spelled: tuple[str, str],
) -> None:
    text, canonical = spelled
    spec = ov.parse_device(text)
    assert str(spec) == canonical
    assert ov.parse_device(canonical) == spec


@PROPERTY_SETTINGS
@given(
    st.text(alphabet=st.sampled_from(list("ABgpu_19.:,()- \t!é*")), max_size=30)
    | st.text(max_size=30)
)
def test_any_text_parses_or_raises_a_device_string_error_pointing_into_it(text: str) -> None:
    assert_parses_or_points_at_the_problem(text)


@PROPERTY_SETTINGS
@given(spelled_specs(), st.data())
def test_a_damaged_valid_string_parses_or_raises_a_device_string_error(
    spelled: tuple[str, str], data: st.DataObject
) -> None:
    text = spelled[0]
    at = data.draw(st.integers(0, len(text)))
    damage = data.draw(st.sampled_from(["insert", "delete", "replace"]))
    char = data.draw(st.sampled_from(list(":,().-( ) \t#@0") + list(string.ascii_letters[:3])))
    if damage == "insert":
        text = text[:at] + char + text[at:]
    elif damage == "delete":
        text = text[:at] + text[at + 1 :]
    else:
        text = text[:at] + char + text[at + 1 :]
    assert_parses_or_points_at_the_problem(text)


@settings(PROPERTY_SETTINGS, max_examples=100)
@given(st.text(max_size=20) | spelled_specs(prefix="ZZ").map(lambda s: s[0]))
def test_the_core_refuses_malformed_or_unknown_devices_with_typed_errors(text: str) -> None:
    """Through compile_model: a malformed string is a DeviceStringError; a well-formed one
    naming no installed device (names here start with ZZ) a DeviceNotFoundError naming it."""
    core = _device_string_core()
    try:
        spec = ov.parse_device(text)
    except ov.DeviceStringError:
        with pytest.raises(ov.DeviceStringError):
            core.compile_model(MLP, text)
        return
    assume(spec.name.startswith("ZZ"))
    with pytest.raises(ov.DeviceNotFoundError) as info:
        core.compile_model(MLP, text)
    assert spec.name in str(info.value)
    assert "installed devices" in str(info.value)


_CORE: list[ov.Core] = []


def _device_string_core() -> ov.Core:
    if not _CORE:
        _CORE.append(make_core(SimulatedDevice("SIMX")))
    return _CORE[0]


@pytest.mark.parametrize("text", ["GPU(" + "9" * 5000 + ")", "MULTI:CPU(" + "1" * 4301 + ")"])
def test_an_absurdly_large_count_is_a_device_string_error(text: str) -> None:
    try:
        ov.parse_device(text)
    except ov.DeviceStringError as error:
        assert error.position == text.index("(") + 1
        return
    except ValueError as error:
        message = f"{type(error).__name__} instead of DeviceStringError: {error}"
        raise AssertionError(message) from None
    raise AssertionError("accepted")


# ---- properties -----------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(
    st.integers(-(10**12), 10**12)
    | st.sampled_from([0, -1, -2, -3, 1, True, False, 1.5, 2.0, "2", "auto", "numa", "many", ""])
)
def test_num_streams_takes_positive_counts_auto_and_numa_only(value: Any) -> None:
    valid = (
        isinstance(value, int) and not isinstance(value, bool) and (value >= 1 or value in (-1, -2))
    ) or (
        isinstance(value, str)
        and (value.upper() in ("AUTO", "NUMA") or value.isdigit() and int(value) >= 1)
    )
    try:
        config = props.normalize_config({"NUM_STREAMS": value})
    except ov.PropertyValueError as error:
        assert not valid, f"{value!r} refused: {error}"
        assert repr(value) in str(error) and "NUM_STREAMS" in str(error)
        assert "whole number >= 1" in str(error)
    else:
        assert valid, f"NUM_STREAMS={value!r} accepted as {config}"


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("NUM_STREAMS", 0, "whole number >= 1"),
        ("NUM_STREAMS", -3, "whole number >= 1"),
        ("NUM_STREAMS", 1.5, "whole number >= 1"),
        ("PERFORMANCE_HINT_NUM_REQUESTS", -1, "whole number >= 0"),
        ("INFERENCE_NUM_THREADS", -1, "whole number >= 0"),
        ("OVLITE_INFERENCE_TIMEOUT", -5, "whole number from 0 to"),
        ("PERFORMANCE_HINT", "FAST", "LATENCY, THROUGHPUT, CUMULATIVE_THROUGHPUT"),
        ("PERF_COUNT", "maybe", "True/False"),
        ("DEVICE_PRIORITIES", 7, "comma-separated string or a list"),
    ],
)
def test_out_of_range_values_are_refused_naming_value_and_expectation(
    core: ov.Core, key: str, value: Any, expected: str
) -> None:
    for attempt in (
        lambda: core.compile_model(MLP, "SIMX", {key: value}),
        lambda: core.set_property({key: value}),
        lambda: core.set_property("SIMX", {key: value}),
    ):
        with pytest.raises(ov.PropertyValueError) as info:
            attempt()
        message = str(info.value)
        assert repr(value) in message and key in message and expected in message, message
        assert isinstance(info.value, ValueError)
    assert_matches_core(core)


def test_unknown_and_read_only_properties_are_refused_by_name(core: ov.Core) -> None:
    with pytest.raises(ov.UnknownPropertyError) as info:
        core.compile_model(MLP, "SIMX", {"NUM_STREAM": 2})
    assert "'NUM_STREAM'" in str(info.value) and "NUM_STREAMS" in str(info.value)
    assert isinstance(info.value, KeyError)
    with pytest.raises(ov.UnknownPropertyError, match="'NUM_STREAM'"):
        core.set_property("SIMX", {"NUM_STREAM": 2})
    with pytest.raises(ov.UnknownPropertyError, match="NOPE"):
        core.get_property("SIMX", "NOPE")
    with pytest.raises(ov.UnknownPropertyError, match="int"):
        core.compile_model(MLP, "SIMX", {5: 1})
    # a known key the device does not take: named, with what the device does take
    with pytest.raises(ov.UnknownPropertyError) as info:
        core.compile_model(MLP, "SIMX", {"ENABLE_CPU_PINNING": True})
    assert "SIMX" in str(info.value) and "ENABLE_CPU_PINNING" in str(info.value)
    assert "NUM_STREAMS" in str(info.value)
    for read_only in (
        "OPTIMAL_NUMBER_OF_INFER_REQUESTS",
        "EXECUTION_DEVICES",
        "SUPPORTED_PROPERTIES",
    ):
        with pytest.raises(ov.ReadOnlyPropertyError, match=read_only):
            core.compile_model(MLP, "SIMX", {read_only: 4})
        with pytest.raises(ov.ReadOnlyPropertyError, match=read_only):
            core.set_property({read_only: 4})
    compiled = core.compile_model(MLP, "SIMX")
    with pytest.raises(ov.ReadOnlyPropertyError, match="NUM_STREAMS"):
        compiled.set_property({"NUM_STREAMS": 2})
    with pytest.raises(ov.UnknownPropertyError, match="NOPE"):
        compiled.get_property("NOPE")
    with pytest.raises(ov.PropertyValueError, match="dict"):
        core.compile_model(MLP, "SIMX", [("NUM_STREAMS", 2)])  # type: ignore[arg-type]
    assert_matches_core(core)


def test_bad_per_device_properties_are_refused(core: ov.Core) -> None:
    with pytest.raises(ov.PropertyValueError, match="NUM_STREAMS"):
        core.compile_model(
            MLP, "MULTI:SIMX,SIMY", {"DEVICE_PROPERTIES": {"SIMX": {"NUM_STREAMS": 0}}}
        )
    with pytest.raises(ov.PropertyValueError, match=re.escape("'SI MX('")):
        core.compile_model(MLP, "MULTI:SIMX,SIMY", {"DEVICE_PROPERTIES": {"SI MX(": {}}})
    with pytest.raises(ov.PropertyValueError, match="dict"):
        core.compile_model(MLP, "MULTI:SIMX,SIMY", {"DEVICE_PROPERTIES": ["SIMX"]})


def test_a_refused_set_property_changes_nothing(core: ov.Core) -> None:
    before = core.get_property("SIMY", "NUM_STREAMS")
    with pytest.raises(ov.PropertyValueError):
        core.set_property("SIMY", {"NUM_STREAMS": 3, "PERFORMANCE_HINT": "FAST"})
    assert core.get_property("SIMY", "NUM_STREAMS") == before
    with pytest.raises(ov.UnknownPropertyError):
        core.set_property("SIMY", {"NUM_STREAMS": 3, "NOT_A_KEY": 1})
    assert core.get_property("SIMY", "NUM_STREAMS") == before


def test_a_negative_number_of_queue_requests_is_a_typed_error(core: ov.Core) -> None:
    compiled = core.compile_model(MLP, "SIMX")
    with pytest.raises(ValueError) as info:
        ov.AsyncInferQueue(compiled, -1)
    assert "-1" in str(info.value) and ">= 0" in str(info.value)
    assert isinstance(info.value, ov.OvliteError), f"{type(info.value).__name__}: {info.value}"
