"""Deterministic input data for any model's ports."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..model import Port


def random_inputs(
    ports: Sequence[Port], seed: int = 0, dynamic_dim: int = 2
) -> dict[str, np.ndarray]:
    """One array per input port, from a seeded generator; dynamic dimensions become
    ``dynamic_dim``.  Floats are standard normal, integers in [-5, 5), booleans coin flips."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for port in ports:
        shape = [dynamic_dim if d < 0 else d for d in port.partial_shape]
        dtype = port.element_type.to_dtype()
        if dtype.kind == "f":
            array = rng.standard_normal(shape).astype(dtype)
        elif dtype.kind in "iu":
            low = 0 if dtype.kind == "u" else -5
            array = rng.integers(low, 5, size=shape).astype(dtype)
        elif dtype.kind == "b":
            array = rng.integers(0, 2, size=shape).astype(bool)
        else:
            raise TypeError(f"no random data for input {port.any_name!r} of {port.element_type}")
        arrays[port.any_name] = array
    return arrays
