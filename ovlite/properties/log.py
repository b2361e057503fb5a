"""Logging: ``LOG_LEVEL`` with openvino's levels."""

from __future__ import annotations

from ._enum import OvEnum
from ._keys import define, enum_of


class Level(OvEnum):
    """``LOG_LEVEL`` values, quietest first."""

    NO = -1
    ERR = 0
    WARNING = 1
    INFO = 2
    DEBUG = 3
    TRACE = 4


level = define(
    "LOG_LEVEL",
    enum_of(Level),
    doc="How much the device logs (NO, ERR, WARNING, INFO, DEBUG, TRACE).",
)
