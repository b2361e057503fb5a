"""Helpers with openvino's ``openvino.utils`` names (``ov.utils.types``)."""

from . import types

__all__ = ["types"]
