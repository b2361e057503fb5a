"""Dimension and mutable PartialShape; model.reshape with ranges; live ports; port keywords."""

from __future__ import annotations

import numpy as np
import pytest

import ovlite as ov
from ovlite import models


@pytest.mark.parametrize(
    ("dimension", "text", "low", "high"),
    [
        (ov.Dimension(), "?", 0, -1),
        (ov.Dimension(5), "5", 5, 5),
        (ov.Dimension(1, 8), "1..8", 1, 8),
        (ov.Dimension(0, 8), "..8", 0, 8),
        (ov.Dimension(2, -1), "2..", 2, -1),
        (ov.Dimension("1..8"), "1..8", 1, 8),
        (ov.Dimension("?"), "?", 0, -1),
        (ov.Dimension("..8"), "..8", 0, 8),
    ],
)
def test_dimensions_print_and_bound_like_openvino(dimension, text, low, high) -> None:
    assert str(dimension) == text and repr(dimension) == f"<Dimension: {text}>"
    assert (dimension.get_min_length(), dimension.get_max_length()) == (low, high)
    assert (dimension.min_length, dimension.max_length) == (low, high)
    assert dimension.is_dynamic == (low != high) and dimension.is_static == (low == high)
    assert (dimension < 0) == dimension.is_dynamic  # still an int: -1 when dynamic


def test_dimension_length_compatibility_and_equality() -> None:
    assert ov.Dimension(5).get_length() == 5 and ov.Dimension(5) == 5
    with pytest.raises(RuntimeError, match="1..8"):
        ov.Dimension(1, 8).get_length()
    assert ov.Dimension(1, 8).compatible(ov.Dimension(5)) and not ov.Dimension(1, 8).compatible(9)
    assert ov.Dimension(1, 8) == ov.Dimension(1, 8) and ov.Dimension(1, 8) != ov.Dimension()
    with pytest.raises(RuntimeError, match="minimum"):
        ov.Dimension(8, 1)


def test_partial_shape_is_mutable_and_compares_with_sequences() -> None:
    shape = ov.PartialShape([1, 3, 224, 224])
    shape[3] = -1
    shape[2] = ov.Dimension(1, 8)
    assert str(shape) == "[1,3,1..8,?]"
    assert shape[0].is_static and shape[3].is_dynamic and isinstance(shape[0], ov.Dimension)
    assert ov.PartialShape([1, 2]) == [1, 2] == ov.PartialShape("1,2") and ov.PartialShape(
        [1, 2]
    ) == (1, 2)
    assert ov.PartialShape("[1,3,?,1..8]") == ov.PartialShape([1, 3, -1, (1, 8)])
    assert shape.get_min_shape() == [1, 3, 1, 0] and shape.get_max_shape() == [1, 3, 8, -1]
    assert shape.is_dynamic and shape.rank == 4 and len(shape) == 4
    assert ov.PartialShape([1, 2]).to_shape() == (1, 2)
    assert ov.PartialShape.dynamic().rank is None and str(ov.PartialShape.dynamic(2)) == "[?,?]"


@pytest.mark.parametrize("batch", ["1..8", (1, 8), ov.Dimension(1, 8)])
def test_reshape_with_a_range_is_kept_on_the_port_and_checked(batch) -> None:
    model = ov.read_model(models.tiny_mlp(batch=1))
    port = model.input()
    model.reshape([batch, 16])
    assert str(model.input().partial_shape) == "[1..8,16]"
    assert str(port.partial_shape) == "[1..8,16]"  # the port taken before is live
    compiled = ov.Core().compile_model(model, "CPU")
    assert compiled({"x": np.ones((8, 16), np.float32)})[0].shape == (8, 8)
    with pytest.raises(ov.InputShapeError, match=r"\[1\.\.8,16\]"):
        compiled({"x": np.ones((9, 16), np.float32)})


def test_reshape_takes_a_changed_port_shape_and_strings() -> None:
    model = ov.read_model(models.tiny_mlp(batch=1))
    shape = model.input().partial_shape
    shape[0] = -1
    assert str(model.input().partial_shape) == "[1,16]"  # a copy: the model is unchanged
    model.reshape(shape)
    assert (
        str(model.input().partial_shape) == "[?,16]" and model.output().partial_shape[0].is_dynamic
    )
    model.reshape({"x": "[2,16]"})
    assert model.input().partial_shape == [2, 16] and model.output().partial_shape == [2, 8]


def test_port_keyword_arguments_on_models_and_compiled_models() -> None:
    model = ov.read_model(models.two_inputs())
    compiled = ov.Core().compile_model(model, "CPU")
    for holder in (model, compiled):
        assert holder.input(index=1).any_name == "b" and holder.input(tensor_name="a").index == 0
        assert holder.output(index=1).any_name == "scaled"
        with pytest.raises(ov.InputNameError, match="'zz'"):
            holder.input(tensor_name="zz")


def test_same_strings_and_bounds_as_openvino() -> None:
    openvino = pytest.importorskip("openvino")
    for text in ("?", "5", "1..8", "..8", "3.."):
        theirs, ours = openvino.Dimension(text), ov.Dimension(text)
        assert str(ours) == str(theirs)
        assert (ours.get_min_length(), ours.get_max_length()) == (
            theirs.get_min_length(),
            theirs.get_max_length(),
        )
    shape = openvino.PartialShape([1, 3, 224, 224])
    shape[3] = -1
    shape[2] = openvino.Dimension(1, 8)
    ours = ov.PartialShape([1, 3, 224, 224])
    ours[3] = -1
    ours[2] = ov.Dimension(1, 8)
    assert str(ours) == str(shape)


def test_dimension_schemes_relaxing_and_refining() -> None:
    dynamic, three, four = ov.Dimension(), ov.Dimension(3), ov.Dimension(4)
    assert dynamic.same_scheme(ov.Dimension()) and three.same_scheme(3)
    assert not three.same_scheme(four) and not dynamic.same_scheme(four)
    assert dynamic.relaxes(four) and three.relaxes(three) and not three.relaxes(four)
    assert not dynamic.refines(four) and four.refines(dynamic) and three.refines(three)
    assert ov.Dimension(1, 8).relaxes(ov.Dimension(2, 4)) and not ov.Dimension(2, 4).relaxes(8)
    assert len(ov.Dimension(2)) == 2
    with pytest.raises(RuntimeError, match=r"\?"):
        len(dynamic)
