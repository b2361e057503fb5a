"""Model.get_parameters / get_results / get_ordered_ops: the ONNX graph read as openvino nodes."""

from __future__ import annotations

import pytest

import ovlite as ov
from ovlite import models


def test_parameters_and_results_are_the_models_live_ports() -> None:
    model = ov.read_model(models.tiny_mlp(batch=1))
    (parameter,) = model.get_parameters()
    (result,) = model.get_results()
    assert parameter.get_type_name() == "Parameter" and parameter.get_friendly_name() == "x"
    assert parameter.output(0) is model.input(0) and parameter.get_element_type() == ov.Type.f32
    assert result.get_type_name() == "Result" and result.input_value(0).get_any_name() == "y"
    model.reshape([4, 16])
    assert parameter.get_partial_shape() == [4, 16]  # live, like the ports
    assert model.get_parameters()[0].get_output_partial_shape(0) == [4, 16]
    assert model.get_results()[0].get_output_partial_shape(0) == [4, 8]


def test_ordered_ops_walk_the_graph_in_order_with_shapes() -> None:
    model = ov.read_model(models.tiny_mlp(batch=2))
    ops = model.get_ordered_ops()
    kinds = [op.get_type_name() for op in ops]
    assert kinds[0] == "Parameter" and kinds[-1] == "Result"
    assert kinds[1:-1].count("Constant") == 4 and "Gemm" in kinds and "Relu" in kinds
    relu = next(op for op in ops if op.get_type_name() == "Relu")
    assert relu.get_output_partial_shape(0) == [2, 32]
    assert relu.get_output_element_type(0) == ov.Type.f32
    assert relu.get_input_size() == 1 and relu.get_input_partial_shape(0) == [2, 32]
    gemm = next(op for op in ops if op.get_type_name() == "Gemm")
    assert gemm.get_attributes()["transB"] == 1 and gemm.get_type_info().name == "Gemm"
    assert len(model.get_ops()) == len(ops)


def test_two_reads_of_a_model_have_equal_nodes_named_as_query_model_names_them() -> None:
    first, second = ov.read_model(models.two_inputs()), ov.read_model(models.two_inputs())
    assert first.get_parameters() == second.get_parameters()
    assert first.get_ordered_ops() == second.get_ordered_ops()
    assert first.get_results() == second.get_results()
    placement = ov.Core().query_model(first, "CPU")
    names = {op.get_friendly_name() for op in first.get_ordered_ops()}
    assert set(placement) <= names


def test_ports_lead_to_the_nodes_that_make_them() -> None:
    model = ov.read_model(models.tiny_mlp(batch=1))
    with pytest.raises(RuntimeError, match="get_parameters"):
        ov.read_model(models.tiny_mlp(batch=1)).input(0).get_node()
    ops = model.get_ordered_ops()
    assert model.input(0).get_node().get_type_name() == "Parameter"
    assert model.output(0).get_node().get_type_name() == "Result"
    result = ops[-1]
    producer = result.input_value(0).get_node()
    assert producer.get_type_name() == "Gemm" and producer.get_friendly_name() == "y"
    relu = producer.input_value(0).get_node()
    assert (
        relu.get_type_name() == "Relu"
        and producer.input_value(1).get_node().get_type_name() == "Constant"
    )


def test_a_missing_output_is_named() -> None:
    (parameter,) = ov.read_model(models.tiny_mlp(batch=1)).get_parameters()
    with pytest.raises(RuntimeError, match="no output 3"):
        parameter.output(3)


@pytest.mark.parametrize("build", [lambda: models.tiny_mlp(batch=1), models.two_inputs])
def test_parameters_and_results_read_like_openvinos(build, tmp_path) -> None:
    openvino = pytest.importorskip("openvino")
    import onnx

    path = tmp_path / "model.onnx"
    onnx.save(build(), str(path))
    ours, theirs = ov.read_model(str(path)), openvino.Core().read_model(str(path))
    for mine, other in zip(ours.get_parameters(), theirs.get_parameters(), strict=True):
        assert mine.get_friendly_name() == other.get_friendly_name()
        assert mine.get_element_type().get_type_name() == other.get_element_type().get_type_name()
        assert str(mine.get_partial_shape()) == str(other.get_partial_shape())
        assert mine.output(0).get_names() == other.output(0).get_names()
    for mine, other in zip(ours.get_results(), theirs.get_results(), strict=True):
        assert mine.get_type_name() == other.get_type_name() == "Result"
        assert str(mine.get_output_partial_shape(0)) == str(other.get_output_partial_shape(0))
        assert mine.input_value(0).get_names() == other.input_value(0).get_names()
    assert [op.get_type_name() for op in ours.get_ordered_ops()][0] == "Parameter"


def test_a_compiled_models_ports_have_a_parameter_and_a_result_to_rename() -> None:
    compiled = ov.Core().compile_model(models.tiny_mlp(batch=1), "CPU")
    assert ov.ConstOutput is ov.Port and isinstance(compiled.input(0), ov.ConstOutput)
    parameter, result = compiled.input("x").get_node(), compiled.output(0).get_node()
    assert parameter.get_type_name() == "Parameter" and parameter.friendly_name == "x"
    assert result.get_type_name() == "Result" and result.get_element_type() == ov.Type.f32
    assert compiled.inputs[0].get_node() is parameter  # one node per port
    parameter.set_friendly_name("input_1")
    result.friendly_name = "output_1"
    assert compiled.input(0).get_node().friendly_name == "input_1"
    assert result.get_friendly_name() == "output_1"
    assert compiled.input(0).get_any_name() == "x"  # renaming the node keeps the tensor name
    assert ov.Tensor(compiled.output(0)).shape == result.shape


def test_a_nodes_input_leads_to_the_node_making_the_value() -> None:
    model = ov.read_model(models.tiny_mlp(batch=1))
    result = model.get_ordered_ops()[-1]
    source = result.inputs()[0].get_source_output()
    assert result.get_type_name() == "Result" and source.get_any_name() == "y"
    assert source.get_node().get_type_name() not in ("Result", "Parameter")  # the operator
    compiled = ov.Core().compile_model(model, "CPU")
    value = compiled.output(0).get_node().inputs()[0]
    assert value.get_index() == 0 and value.get_element_type() == ov.Type.f32
    assert value.get_partial_shape() == [1, 8] and value.get_source_output() is value
