"""ov.Layout, ov.layout_helpers and layout-driven get_batch/set_batch, as openvino has them."""

from __future__ import annotations

import numpy as np
import pytest

import ovlite as ov
from ovlite import layout_helpers as lh
from ovlite import models


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NCHW", "[N,C,H,W]"),
        ("nchw", "[N,C,H,W]"),
        ("[N,C,H,W]", "[N,C,H,W]"),
        ("?CHW", "[?,C,H,W]"),
        ("NC...", "[N,C,...]"),
        ("...C", "[...,C]"),
        ("[batch,seq]", "[N,SEQ]"),
        ("[n, c]", "[N,C]"),
        ("NC1", "[N,C,1]"),
        ("", "[...]"),
        ("...", "[...]"),
    ],
)
def test_layout_strings_print_as_openvino_prints_them(text: str, expected: str) -> None:
    layout = ov.Layout(text)
    assert layout.to_string() == str(layout) == expected
    assert repr(layout) == f"<Layout: {expected}>"
    assert layout == ov.Layout(expected) and layout == text


@pytest.mark.parametrize("bad", ["1-2-3D", "5-5", "NN", "[N,N]", "...NC...", "[N,C", "[N,C-1]"])
def test_bad_layouts_raise_a_typed_runtime_error_naming_them(bad: str) -> None:
    with pytest.raises(RuntimeError) as info:
        ov.Layout(bad)
    assert isinstance(info.value, ov.LayoutError) and repr(bad) in str(info.value)


def test_indices_of_named_dimensions() -> None:
    nchw = ov.Layout("NCHW")
    assert (lh.batch_idx(nchw), lh.channels_idx(nchw), lh.height_idx(nchw), lh.width_idx(nchw)) == (
        0,
        1,
        2,
        3,
    )
    tail = ov.Layout("NC...HW")
    assert (lh.height_idx(tail), lh.width_idx(tail)) == (-2, -1)
    assert lh.channels_idx(ov.Layout("...C")) == -1
    assert lh.has_batch(nchw) and lh.has_channels(nchw) and not lh.has_depth(nchw)
    assert not lh.has_batch(ov.Layout("?CHW"))
    assert nchw.has_name("c") and nchw.get_index_by_name("h") == 2
    assert ov.Layout().empty and not nchw.empty
    assert ov.Layout.scalar().to_string() == "**SCALAR**"
    with pytest.raises(RuntimeError, match="height"):
        lh.height_idx(ov.Layout("NC"))


def test_layout_set_on_a_port_is_read_back_and_reaches_the_compiled_model() -> None:
    model = ov.read_model(models.resnet18(batch=1, image_size=32, num_classes=4))
    assert lh.get_layout(model.input()).empty
    lh.set_layout(model.input(), ov.Layout("NCHW"))
    assert lh.get_layout(model.input()) == ov.Layout("NCHW")
    lh.set_layout(model.output(), "NC")
    compiled = ov.Core().compile_model(model, "CPU")
    assert lh.get_layout(compiled.input()) == "NCHW" and lh.get_layout(compiled.output()) == "NC"
    with pytest.raises(RuntimeError, match="rank"):
        lh.set_layout(model.input(), "NC")


def test_get_batch_and_set_batch_follow_the_layout() -> None:
    model = ov.read_model(models.resnet18(batch=1, image_size=32, num_classes=4))
    with pytest.raises(RuntimeError, match="set_layout"):
        ov.get_batch(model)
    lh.set_layout(model.input(), "NCHW")
    assert ov.get_batch(model) == 1
    port = model.input()
    ov.set_batch(model, 3)
    assert ov.get_batch(model) == 3
    assert list(port.partial_shape) == [3, 3, 32, 32]  # the port taken before is live
    assert list(model.output().partial_shape) == [3, 4]
    assert lh.get_layout(model.input()) == "NCHW"  # the layout survives the reshape


def test_set_batch_without_layouts_takes_the_first_dimension() -> None:
    model = ov.read_model(models.tiny_mlp(batch=1))
    ov.set_batch(model, 5)
    assert list(model.input().partial_shape) == [5, 16]
    other = ov.read_model(models.resnet18(batch=1, image_size=32, num_classes=4))
    lh.set_layout(other.input(), "?CHW")  # a layout, but no N in it
    with pytest.raises(ov.LayoutError, match="batch"):
        ov.set_batch(other, 2)


def test_batch_in_a_middle_dimension() -> None:
    model = ov.read_model(models.resnet18(batch=1, image_size=32, num_classes=4))
    lh.set_layout(model.input(), "CNHW")
    assert ov.get_batch(model) == 3  # read where the layout puts N, not from dimension 0


def test_compiled_ports_are_not_changed_by_a_later_reshape() -> None:
    model = ov.read_model(models.tiny_mlp(batch=1))
    compiled = ov.Core().compile_model(model, "CPU")
    model.reshape([4, 16])
    assert list(compiled.input().partial_shape) == [1, 16]
    assert compiled.input(index=0) == compiled.input(tensor_name="x") == compiled.input("x")
    assert model.output(index=0).any_name == "y"


@pytest.mark.parametrize("text", ["NCHW", "[N,?,C]", "NC...", "...C", "[batch,seq]", "?CHW"])
def test_same_strings_as_openvino(text: str) -> None:
    openvino = pytest.importorskip("openvino")
    theirs = openvino.Layout(text)
    ours = ov.Layout(text)
    assert ours.to_string() == theirs.to_string()
    for name in "NCHW":
        assert ours.has_name(name) == theirs.has_name(name)
        if theirs.has_name(name):
            assert ours.get_index_by_name(name) == theirs.get_index_by_name(name)


def test_batch_as_a_range() -> None:
    model = ov.read_model(models.resnet18(batch=1, image_size=32, num_classes=4))
    lh.set_layout(model.input(), "NCHW")
    ov.set_batch(model, ov.Dimension(1, 8))
    batch = ov.get_batch(model)
    assert isinstance(batch, ov.Dimension) and str(batch) == "1..8"
    assert str(model.input().partial_shape) == "[1..8,3,32,32]"
    compiled = ov.Core().compile_model(model, "CPU")
    assert compiled(np.zeros((2, 3, 32, 32), np.float32))[0].shape == (2, 4)


@pytest.mark.parametrize("bad", ["1-2-3D", "5-5"])
def test_invalid_characters_say_so_in_openvino_words(bad: str) -> None:
    with pytest.raises(RuntimeError, match="Layout name is invalid"):
        ov.preprocess.PrePostProcessor(
            ov.read_model(models.resnet18(batch=1, image_size=32, num_classes=4))
        ).input().model().set_layout(bad)
