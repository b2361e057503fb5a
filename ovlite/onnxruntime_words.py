"""Element types numpy has no dtype for (``bf16``, the f8 types), to and from ONNX Runtime.

ovlite holds such data as raw words of the type's storage dtype, as openvino does: a bf16
array is a ``float16`` (or ``uint16``) array whose elements are bf16 bit patterns.  ONNX
Runtime's Python binding converts only the numpy types it knows, so a model with an input
or output of such a type runs through :func:`word_runner`: those inputs are fed as
``OrtValue`` objects over the caller's words (no copy) and the outputs are fetched as
``OrtValue`` objects, those of such a type copied out as words of the storage dtype.
Models without such types never come here: their runner is the plain one.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .element_type import Type


def is_word_type(element_type: Type) -> bool:
    """Whether ``element_type`` travels as raw words: ONNX has it, numpy does not, and its
    elements take whole bytes (``bf16``, ``f8e4m3``, ``f8e5m2``; not the packed 4-bit types)."""
    return (
        element_type.dtype is None
        and element_type.bitwidth >= 8
        and element_type.onnx_type > 0
        and element_type is not Type.string
    )


def word_types(types: Sequence[Type] | None) -> dict[int, Type]:
    """``{index: type}`` for the entries of ``types`` that travel as words."""
    return {i: t for i, t in enumerate(types or ()) if is_word_type(t)}


def word_runner(
    output_names: list[str],
    input_names: list[str],
    info: Any,
    input_types: Sequence[Type] | None,
    output_types: Sequence[Type] | None,
    options_for: Callable[[Any], Any] | None = None,
) -> Callable[..., tuple[list[Any], Any]] | None:
    """``run(session, inputs[, stop])`` for a model with inputs or outputs of a word type;
    ``None`` when it has none (the caller uses its plain runner).

    ``options_for(stop)`` gives a run's ``RunOptions`` when the runner is stoppable (its
    ``run`` then takes ``stop`` as third argument).
    """
    inputs_as_words = word_types(input_types)
    outputs_as_words = word_types(output_types)
    if not inputs_as_words and not outputs_as_words:
        return None
    from onnxruntime.capi.onnxruntime_pybind11_state import OrtValue

    from_numpy = OrtValue.ortvalue_from_numpy
    from_words = OrtValue.ortvalue_from_numpy_with_onnx_type

    def feed(index: int, value: Any) -> Any:
        if not isinstance(value, np.ndarray):
            # a device tensor (the onnxruntime.OrtValue wrapper) or the binding's own value
            return value._get_c_value() if hasattr(value, "_get_c_value") else value
        words = inputs_as_words.get(index)
        value = np.ascontiguousarray(value)
        if words is None:
            return from_numpy(value)
        return from_words(value.view(f"u{value.itemsize}"), words.onnx_type)

    def fetch(index: int, value: Any) -> np.ndarray:
        words = outputs_as_words.get(index)
        if words is None:
            return value.numpy()
        array = np.empty(value.shape(), dtype=words.to_dtype())
        if array.nbytes:
            ctypes.memmove(array.ctypes.data, value.data_ptr(), array.nbytes)
        return array

    def run_once(session: Any, inputs: Sequence[Any], options: Any) -> tuple[list[Any], Any]:
        pairs = enumerate(zip(input_names, inputs, strict=True))
        feeds = {name: feed(i, value) for i, (name, value) in pairs}
        session = getattr(session, "_sess", session)
        values = session.run_with_ort_values(feeds, output_names, options)
        return [fetch(i, value) for i, value in enumerate(values)], info

    if options_for is None:

        def run(session: Any, inputs: Sequence[Any]) -> tuple[list[Any], Any]:
            return run_once(session, inputs, None)

        return run

    def run_stoppable(session: Any, inputs: Sequence[Any], stop: Any) -> tuple[list[Any], Any]:
        return run_once(session, inputs, options_for(stop))

    return run_stoppable


__all__ = ["is_word_type", "word_runner", "word_types"]
