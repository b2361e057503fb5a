"""Property keys: their OpenVINO names, value types, read-only flags, and config validation.

A :class:`PropertyKey` *is* its OpenVINO string (it subclasses ``str``), so the typed key
``props.hint.performance_mode`` and the string ``"PERFORMANCE_HINT"`` are the same dict key.
Calling a key mirrors openvino: ``key()`` returns the name, ``key(value)`` a checked
``(name, OVAny(value))`` pair.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..element_type import Type
from ..errors import PropertyValueError, ReadOnlyPropertyError, UnknownPropertyError, close_matches
from ._any import OVAny

Converter = Callable[[Any], Any]


class PropertyKey(str):
    """A property name that knows how to check its values and whether it is read-only."""

    convert_value: Converter
    read_only: bool
    doc: str

    def __new__(
        cls, name: str, convert: Converter, *, read_only: bool = False, doc: str = ""
    ) -> PropertyKey:
        key = super().__new__(cls, name)
        key.convert_value = convert
        key.read_only = read_only
        key.doc = doc
        return key

    @property
    def name(self) -> str:
        return str.__str__(self)

    def convert(self, value: Any) -> Any:
        """Return ``value`` in canonical form, or raise :class:`PropertyValueError` quoting it."""
        if isinstance(value, OVAny):
            value = value.value
        try:
            return self.convert_value(value)
        except PropertyValueError as exc:
            raise PropertyValueError(f"bad value {value!r} for {self.name}: {exc}") from None
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise PropertyValueError(f"bad value {value!r} for {self.name}: {exc}") from None

    def __call__(self, *value: Any) -> Any:
        if not value:
            return self.name
        if len(value) != 1:
            raise TypeError(f"{self.name}() takes at most one value")
        if self.read_only:
            raise ReadOnlyPropertyError(
                f"{self.name} is read-only: {self.name}() names it and takes no value, "
                f"not {value[0]!r}"
            )
        return self.name, OVAny(self.convert(value[0]))

    def __repr__(self) -> str:
        return f"<property {self.name}{' (read-only)' if self.read_only else ''}>"


KEYS: dict[str, PropertyKey] = {}
# Spellings used in prose and other runtimes, mapped to OpenVINO's key names.
ALIASES = {
    "ENABLE_PROFILING": "PERF_COUNT",
    "MODEL_NAME": "NETWORK_NAME",
    "MULTI_DEVICE_PRIORITIES": "DEVICE_PRIORITIES",  # openvino's name for device.priorities
}


def register_key(key: PropertyKey) -> PropertyKey:
    """Make ``key`` known to config validation; plugins call this for their own keys."""
    existing = KEYS.get(key.name)
    if existing is not None and existing is not key:
        return existing
    KEYS[key.name] = key
    return key


def define(name: str, convert: Converter, *, read_only: bool = False, doc: str = "") -> PropertyKey:
    return register_key(PropertyKey(name, convert, read_only=read_only, doc=doc))


def lookup_key(key: Any) -> PropertyKey:
    """Resolve a typed key or its string to the registered :class:`PropertyKey`."""
    if not isinstance(key, str):
        raise UnknownPropertyError(
            f"property keys are strings or ovlite.properties keys, got {type(key).__name__} {key!r}"
        )
    name = str.__str__(key).upper()
    found = KEYS.get(ALIASES.get(name, name))
    if found is None:
        raise UnknownPropertyError(
            f"unknown property {str.__str__(key)!r}{close_matches(key, KEYS)}; "
            f"known properties: {', '.join(sorted(KEYS))}"
        )
    return found


def normalize_config(config: Mapping[Any, Any] | None, *, allow_read_only: bool = False) -> dict:
    """Check every key and value of a config dict; return ``{NAME: canonical value}``.

    Raises :class:`UnknownPropertyError` for a misspelt key, :class:`PropertyValueError` for a
    bad value and :class:`ReadOnlyPropertyError` when a read-only key is given a value.
    """
    if config is None:
        return {}
    if _is_pair(config):  # openvino's key(value) form: ("PERF_COUNT", True)
        config = {config[0]: config[1]}
    if not isinstance(config, Mapping):
        raise PropertyValueError(
            f"a config must be a dict of properties or one key(value) pair, got {type(config).__name__} {config!r}"
        )
    result: dict[str, Any] = {}
    for raw_key, value in config.items():
        key = lookup_key(raw_key)
        if key.read_only and not allow_read_only:
            raise ReadOnlyPropertyError(f"property {key.name} is read-only and cannot be set")
        result[key.name] = key.convert(value)
    return result


def _is_pair(value: Any) -> bool:
    return isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str)


# ---- value converters -----------------------------------------------------------------------


def enum_of(enum_type: type[enum.Enum]) -> Converter:
    def convert(value: Any) -> enum.Enum:
        if isinstance(value, enum_type):
            return value
        text = getattr(value, "name", value)
        if isinstance(text, str):
            for member in enum_type:
                if text.upper() in (member.name, str(member.value).upper()):
                    return member
        choices = ", ".join(m.name for m in enum_type)
        raise PropertyValueError(f"expected one of {choices}")

    return convert


def set_of(enum_type: type[enum.Enum]) -> Converter:
    """A set of ``enum_type`` values (from a set, list or comma-separated string)."""
    one = enum_of(enum_type)

    def convert(value: Any) -> set:
        if isinstance(value, str):
            value = [part for part in value.split(",") if part.strip()]
        if not isinstance(value, set | frozenset | list | tuple):
            raise PropertyValueError(f"expected a set of {enum_type.__name__} values")
        return {one(item.strip() if isinstance(item, str) else item) for item in value}

    return convert


def to_bool(value: Any) -> bool:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, str) and value.upper() in ("YES", "TRUE", "ON", "1"):
        return True
    if isinstance(value, str) and value.upper() in ("NO", "FALSE", "OFF", "0"):
        return False
    if isinstance(value, int | np.integer) and value in (0, 1):
        return bool(value)
    raise PropertyValueError("expected True/False (or 'YES'/'NO')")


def int_at_least(minimum: int, maximum: int | None = None) -> Converter:
    """A whole number (an int, a numpy integer or its string) in ``[minimum, maximum]``."""
    expected = (
        f"expected a whole number >= {minimum}"
        if maximum is None
        else f"expected a whole number from {minimum} to {maximum}"
    )

    def convert(value: Any) -> int:
        if isinstance(value, bool | np.bool_):
            raise PropertyValueError(expected)
        try:
            number = int(value)
        except (TypeError, ValueError, OverflowError):  # OverflowError: int(float("inf"))
            raise PropertyValueError(expected) from None
        if number != value and not isinstance(value, str):
            raise PropertyValueError(expected)
        if number < minimum or (maximum is not None and number > maximum):
            raise PropertyValueError(expected)
        return number

    return convert


def float_at_least(minimum: float) -> Converter:
    def convert(value: Any) -> float:
        if isinstance(value, bool):
            raise PropertyValueError(f"expected a number >= {minimum}")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise PropertyValueError(f"expected a number >= {minimum}") from None
        if not minimum <= number < float("inf"):
            raise PropertyValueError(f"expected a finite number >= {minimum}")
        return number

    return convert


#: The longest timeout a setting takes, in milliseconds: OpenVINO's 32-bit limit (about 49.7
#: days), within what Python's waits accept (``threading.TIMEOUT_MAX``).
MAX_TIMEOUT_MS = min(2**32 - 1, int(threading.TIMEOUT_MAX * 1000))

#: Converter for settings in milliseconds: 0 to :data:`MAX_TIMEOUT_MS`.
to_timeout_ms = int_at_least(0, MAX_TIMEOUT_MS)


def to_str(value: Any) -> str:
    if isinstance(value, str):
        return str(value)
    if hasattr(value, "__fspath__"):
        return str(value.__fspath__())
    raise PropertyValueError("expected a string")


def to_str_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return [str(v) for v in value]
    raise PropertyValueError("expected a comma-separated string or a list of strings")


def to_element_type(value: Any) -> Type:
    return Type.parse(value)


def any_value(value: Any) -> Any:
    return value


def to_device_properties(value: Any) -> dict[str, dict[str, Any]]:
    """``{"CPU": {...}, "GPU.1": {...}}``: each device's own config, itself validated."""
    from ..device_string import canonical

    if not isinstance(value, Mapping):
        raise PropertyValueError("expected a dict of {device name: {property: value}}")
    return {canonical(device): normalize_config(sub) for device, sub in value.items()}
