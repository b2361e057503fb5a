"""``get_batch`` / ``set_batch``: a model's batch size, found through its input layouts.

As in openvino, the batch dimension of an input is the ``N`` of its layout
(``ov.layout_helpers.set_layout``).  ``set_batch`` on a model where no input has a layout
takes the first dimension of every input as its batch.
"""

from __future__ import annotations

from typing import Any

from .errors import LayoutError
from .model import Model, Port
from .shape import Dimension, PartialShape


def _batch_ports(model: Model) -> list[tuple[Port, int]]:
    """The inputs with a batch dimension in their layout, and its index there."""
    found = []
    for port in model.inputs:
        if port.layout.has_name("N") and not port.partial_shape.rank_is_dynamic:
            index = port.layout.get_index_by_name("N")
            found.append((port, index % len(port.partial_shape)))
    return found


def _no_batch_error(model: Model, action: str) -> LayoutError:
    listing = "; ".join(f"{p.any_name!r} {p.partial_shape} layout {p.layout}" for p in model.inputs)
    return LayoutError(
        f"cannot {action} of {model.friendly_name!r}: no input has a layout with a batch "
        f"dimension N (inputs: {listing}); set one first, e.g. "
        f"ov.layout_helpers.set_layout(model.input(0), ov.Layout('NCHW'))"
    )


def get_batch(model: Model) -> Dimension:
    """The batch dimension (``1``, ``?`` or a range ``1..8``) of the inputs whose layout has ``N``.

    A :class:`~ovlite.Dimension` is an int too: ``get_batch(model) == 1``.
    """
    ports = _batch_ports(model)
    if not ports:
        raise _no_batch_error(model, "get the batch size")
    dims = [port.partial_shape[index] for port, index in ports]
    static = {int(dim) for dim in dims if dim.is_static}
    if len(static) > 1:
        raise LayoutError(
            f"inputs of {model.friendly_name!r} disagree on the batch size: "
            + ", ".join(f"{p.any_name!r} has {d}" for (p, _), d in zip(ports, dims, strict=True))
        )
    return next((dim for dim in dims if dim.is_static), dims[0])


def set_batch(model: Model, batch_size: Any = -1) -> Model:
    """Reshape ``model`` in place so that every input's batch dimension is ``batch_size``.

    Inputs whose layout has ``N`` get it changed; when no input has a layout at all, the first
    dimension of every input is the batch.  Returns the model.
    """
    ports = _batch_ports(model)
    if not ports:
        if any(not p.layout.empty for p in model.inputs):
            raise _no_batch_error(model, "set the batch size")
        ports = [(p, 0) for p in model.inputs if p.partial_shape.rank]
    shapes = {}
    for port, index in ports:
        shape = port.partial_shape
        dims: list[Any] = list(shape)
        names = list(shape.names)
        dims[index], names[index] = batch_size, None
        shapes[port.any_name] = PartialShape(dims, names=names)
    model.reshape(shapes)
    return model


__all__ = ["get_batch", "set_batch"]
