"""What BATCH can batch: :func:`plan_batching` checks a model and prepares the child's copy.

Every input must carry the batch in dim 0, either dynamic in every input, or 1 in every input
and output (the child is then compiled on a copy reshaped to a dynamic dim 0; the ports users
see stay as they were).  The outputs must carry it too, which is checked with ONNX shape
inference at batches 2 and 3 and, when inference cannot tell, on every batched run.  Anything
else is refused with :class:`CompileError` naming the model, the port and the reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx

from ..errors import CompileError, ModelError
from ..model import Model

#: The batch sizes at which shape inference checks that every output follows the batch.
PROBE_BATCHES = (2, 3)
#: Initializers with more elements than this are left out of the shape-inference probes.
_PROBE_KEEP_ELEMENTS = 64


@dataclasses.dataclass(frozen=True)
class BatchPlan:
    """How a model is batched: ``child_model`` has a dynamic dim 0 on every input.

    ``reshaped`` says whether dim 0 was 1 and made dynamic; ``notes`` lists what could not be
    proven at compile time (outputs whose dim 0 shape inference cannot tell; they are checked
    on every run instead).
    """

    child_model: Model
    reshaped: bool
    notes: tuple[str, ...] = ()


def plan_batching(model: Model, where: str = "BATCH") -> BatchPlan:
    """Check that ``model`` can be batched along dim 0; :class:`CompileError` says why not."""
    name = model.friendly_name

    def refuse(why: str) -> CompileError:
        return CompileError(
            f"{where} cannot batch model {name!r}: {why} (BATCH needs every input and output to "
            f"carry the batch in dim 0: dynamic, or 1 in all of them)"
        )

    if not model.inputs:
        raise refuse("it has no inputs")
    dynamic, ones = [], []
    for port in model.inputs:
        shape = port.partial_shape
        if shape.rank_is_dynamic:
            raise refuse(f"input {port.any_name!r} has an unknown rank")
        if len(shape) == 0:
            raise refuse(f"input {port.any_name!r} is a scalar, with no batch dimension")
        if shape[0] < 0:
            dynamic.append(port.any_name)
        elif shape[0] == 1:
            ones.append(port.any_name)
        else:
            raise refuse(
                f"input {port.any_name!r} has shape {shape}: dim 0 is already {shape[0]}, "
                f"so requests cannot be stacked along it"
            )
    if dynamic and ones:
        raise refuse(
            f"input(s) {', '.join(map(repr, dynamic))} have a dynamic dim 0 but "
            f"{', '.join(map(repr, ones))} have dim 0 = 1, so it is unclear which are batched"
        )
    for port in model.outputs:
        shape = port.partial_shape
        if shape.rank_is_dynamic:
            continue  # the probes below decide
        if len(shape) == 0:
            raise refuse(f"output {port.any_name!r} is a scalar, with no batch dimension")
        if shape[0] >= 0 and (dynamic or shape[0] != 1):
            raise refuse(
                f"output {port.any_name!r} has shape {shape}: its dim 0 is fixed at {shape[0]}, "
                f"so it does not carry the batch"
            )
    child = model
    if ones:
        child = Model(model.proto, name=name)
        try:
            child.reshape({p.any_name: _with_dim0(p.partial_shape, "batch") for p in model.inputs})
        except ModelError as exc:
            raise refuse(f"making dim 0 dynamic failed: {exc}") from exc
    notes = _probe_outputs(child, refuse)
    return BatchPlan(child, bool(ones), tuple(notes))


def _with_dim0(shape: Sequence[int], dim0: int | str) -> list[int | str]:
    names = getattr(shape, "names", (None,) * len(shape))
    rest = [d if d >= 0 else (n or "?") for d, n in zip(shape[1:], names[1:], strict=True)]
    return [dim0, *rest]


def _probe_outputs(child: Model, refuse: Any) -> list[str]:
    """Infer output shapes at batches 2 and 3; each output's dim 0 must follow."""
    skeleton = _skeleton(child)
    unknown: set[str] = set()
    for batch in PROBE_BATCHES:
        probe = Model(skeleton, name=child.friendly_name)
        shapes = {p.any_name: _with_dim0(p.partial_shape, batch) for p in child.inputs}
        try:
            probe.reshape(shapes)
        except ModelError as exc:
            raise refuse(f"it does not take a batch of {batch}: {exc}") from exc
        for port in probe.outputs:
            shape = port.partial_shape
            if shape.rank_is_dynamic or (len(shape) and shape[0] < 0):
                unknown.add(port.any_name)
            elif len(shape) == 0 or shape[0] != batch:
                raise refuse(
                    f"output {port.any_name!r} has shape {shape} for a batch of {batch}: its "
                    f"dim 0 does not follow the batch"
                )
    if unknown:
        return [
            f"shape inference cannot tell whether output(s) {', '.join(sorted(unknown))} follow "
            f"the batch; checked on every run"
        ]
    return []


def _skeleton(model: Model) -> onnx.ModelProto:
    """The model without its large initializers (turned into graph inputs of the same shape),
    so the shape-inference probes never copy the weights; small ones (shape constants) stay."""
    source = model.proto
    graph = onnx.GraphProto(name=source.graph.name)
    graph.node.extend(source.graph.node)
    graph.input.extend(source.graph.input)
    graph.output.extend(source.graph.output)
    listed = {value.name for value in source.graph.input}
    for init in source.graph.initializer:
        elements = int(np.prod(init.dims)) if len(init.dims) else 1
        if elements <= _PROBE_KEEP_ELEMENTS:
            graph.initializer.append(init)
        elif init.name not in listed:
            graph.input.append(
                onnx.helper.make_tensor_value_info(init.name, init.data_type, list(init.dims))
            )
    proto = onnx.ModelProto(ir_version=source.ir_version, graph=graph)
    proto.opset_import.extend(source.opset_import)
    proto.functions.extend(source.functions)
    return proto
