"""The one exception hierarchy of ovlite.

Every error ovlite raises on purpose is an :class:`OvliteError`.  Where a Python built-in
exception is the natural thing to catch (a bad value, a missing key), the ovlite error also
derives from it.  openvino raises ``RuntimeError`` for nearly every failure, so every error a
program ported from ``openvino`` may meet (bad device, model, property, input, layout or
preprocessing step) is also a ``RuntimeError``: ``except RuntimeError:`` keeps working.  The one
exception is :class:`RequestTimeoutError`, a ``TimeoutError`` (an ``OSError``, which cannot share
a base with ``RuntimeError``).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class OvliteError(Exception):
    """Base class of every error raised by ovlite."""


class DeviceStringError(OvliteError, ValueError, RuntimeError):
    """A device string such as ``"MULTI:GPU,CPU"`` is malformed."""

    def __init__(self, text: str, position: int, problem: str) -> None:
        self.text = text
        self.position = position
        self.problem = problem
        pointer = " " * (position + 1) + "^"
        super().__init__(f"bad device string {text!r}: {problem}\n  {text!r}\n  {pointer}")


class DeviceNotFoundError(OvliteError, KeyError, RuntimeError):
    """No installed plugin provides the named device."""

    def __init__(self, name: str, installed: Iterable[str], package: str | None = None) -> None:
        self.name = name
        self.installed = sorted(installed)
        self.package = package
        parts = [f"unknown device {name!r}"]
        close = difflib.get_close_matches(name.upper(), self.installed, n=1, cutoff=0.6)
        if close:
            parts.append(f"did you mean {close[0]!r}?")
        parts.append("installed devices: " + (", ".join(self.installed) or "none"))
        if package:
            parts.append(f"{name!r} is provided by the package {package!r} (pip install {package})")
        super().__init__("; ".join(parts))

    def __str__(self) -> str:  # KeyError would otherwise print the repr of the message
        return str(self.args[0])


class DeviceUnavailableError(OvliteError, RuntimeError):
    """The device's plugin is installed but the device cannot run here."""


class PropertyError(OvliteError, RuntimeError):
    """Base class of property errors."""


class UnknownPropertyError(PropertyError, KeyError):
    """A property key is not known (or not supported by the device asked)."""

    def __str__(self) -> str:
        return str(self.args[0])


class PropertyValueError(PropertyError, ValueError, TypeError):
    """A property value has the wrong type or is out of range (a ``TypeError`` too, as
    openvino raises for a property given a value of the wrong type)."""


class ReadOnlyPropertyError(PropertyError, ValueError, TypeError):
    """A read-only property was given a value (a ``TypeError`` too, as openvino raises for
    ``props.supported_properties("x")``)."""


class ModelError(OvliteError, ValueError, RuntimeError):
    """A model cannot be read, or cannot be compiled for the requested device."""


class ModelTypeError(ModelError, TypeError):
    """``read_model``/``compile_model`` got something that is not a model, a path or bytes."""


class LayoutError(OvliteError, ValueError, RuntimeError):
    """A layout string is malformed, or does not fit the tensor it is set on."""


class PreprocessError(OvliteError, ValueError, RuntimeError):
    """A PrePostProcessor step cannot be built on the model (a missing layout, say)."""


class ElementTypeError(OvliteError, TypeError, RuntimeError):
    """A data type has no element type (or an element type no numpy type)."""


class UnsupportedModelFormatError(ModelError):
    """A model in a format ovlite does not read or write (OpenVINO IR, say)."""


class CompileError(OvliteError, RuntimeError):
    """A device failed to compile a model."""


class InputError(OvliteError, RuntimeError):
    """Base class of errors about the inputs given to an inference."""


class InputNameError(InputError, KeyError):
    """An input was addressed by a name, index or port the model does not have."""

    def __str__(self) -> str:
        return str(self.args[0])


class InputKeyTypeError(InputNameError, TypeError):
    """An input was addressed by something that is not a name, index or port (a float, say)."""


class InputShapeError(InputError, ValueError):
    """An input array's shape does not fit the model's input."""


class InputTypeError(InputError, TypeError):
    """An input has an element type that cannot be converted safely, or is not an array."""


class MissingInputError(InputError, ValueError):
    """An inference was started without data for some of the model's inputs."""


class InferenceError(OvliteError, RuntimeError):
    """The device failed while running an inference."""


class RequestBusyError(OvliteError, RuntimeError):
    """A request was used while an inference on it was still in flight."""


class NoResultsError(OvliteError, RuntimeError):
    """A request's results were read before any inference on it finished."""


class RequestCancelledError(OvliteError, RuntimeError):
    """The inference was cancelled before it ran."""


class DeviceClosedError(RequestCancelledError):
    """The inference was refused because the compiled model had been closed."""


class RequestTimeoutError(OvliteError, TimeoutError):
    """An inference did not finish within the configured time."""


class ReentrancyError(OvliteError, RuntimeError):
    """A call made from a callback would wait for that callback itself (a deadlock)."""


class CallbackError(OvliteError, RuntimeError):
    """A user callback raised; the original exception is the ``__cause__``."""


class ChildDeviceError(OvliteError, ValueError, RuntimeError):
    """A meta device was given a child device it cannot use (HETERO over MULTI, say)."""


class ArgumentError(OvliteError, ValueError, RuntimeError):
    """An argument to an ovlite call is out of range (a negative count, say)."""


class PluginError(OvliteError, RuntimeError):
    """A plugin could not be loaded, or broke the plugin contract."""


def close_matches(word: str, choices: Iterable[str]) -> str:
    """Return a ``" (did you mean X?)"`` suffix when ``word`` resembles one of ``choices``."""
    found = difflib.get_close_matches(str(word).upper(), [c.upper() for c in choices], n=1)
    return f" (did you mean {found[0]!r}?)" if found else ""
