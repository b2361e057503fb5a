"""openvino's ``layout_helpers``: read and set a port's layout, find its named dimensions.

ov.layout_helpers.set_layout(model.input(), ov.Layout("NCHW"))
ov.layout_helpers.height_idx(ov.layout_helpers.get_layout(model.input()))   # 2
"""

from __future__ import annotations

from .errors import LayoutError
from .layout import Layout, as_layout
from .model import Port


def get_layout(port: Port) -> Layout:
    """The layout set on ``port`` (the empty ``Layout()`` when none was set)."""
    return port.layout


def set_layout(port: Port, layout: Layout | str) -> None:
    """Set ``port``'s layout; its rank must fit the port's shape."""
    layout = as_layout(layout)
    shape = port.partial_shape
    if not layout.empty and not shape.rank_is_dynamic:
        try:
            layout.names_for_rank(len(shape))
        except LayoutError as exc:
            raise LayoutError(
                f"cannot set layout {layout} on {port.kind} {port.any_name!r} {shape}: {exc}"
            ) from None
    port.layout = layout


def _index(layout: Layout | str, name: str, what: str) -> int:
    layout = as_layout(layout)
    if not layout.has_name(name):
        raise LayoutError(f"layout {layout} has no {what} dimension ({name!r})")
    return layout.get_index_by_name(name)


def batch_idx(layout: Layout | str) -> int:
    """Index of the batch dimension ``N`` (negative when counted from the end)."""
    return _index(layout, "N", "batch")


def channels_idx(layout: Layout | str) -> int:
    """Index of the channels dimension ``C``."""
    return _index(layout, "C", "channels")


def depth_idx(layout: Layout | str) -> int:
    """Index of the depth dimension ``D``."""
    return _index(layout, "D", "depth")


def height_idx(layout: Layout | str) -> int:
    """Index of the height dimension ``H``."""
    return _index(layout, "H", "height")


def width_idx(layout: Layout | str) -> int:
    """Index of the width dimension ``W``."""
    return _index(layout, "W", "width")


def has_batch(layout: Layout | str) -> bool:
    return as_layout(layout).has_name("N")


def has_channels(layout: Layout | str) -> bool:
    return as_layout(layout).has_name("C")


def has_depth(layout: Layout | str) -> bool:
    return as_layout(layout).has_name("D")


def has_height(layout: Layout | str) -> bool:
    return as_layout(layout).has_name("H")


def has_width(layout: Layout | str) -> bool:
    return as_layout(layout).has_name("W")


__all__ = [
    "batch_idx",
    "channels_idx",
    "depth_idx",
    "get_layout",
    "has_batch",
    "has_channels",
    "has_depth",
    "has_height",
    "has_width",
    "height_idx",
    "set_layout",
    "width_idx",
]
