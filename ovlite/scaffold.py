"""``ovlite new-plugin NAME``: write a device plugin package that passes conformance as written.

The package is a src layout (``src/ovlite_<name>/``) with the ``ovlite`` entry point in
``pyproject.toml``, a device on plugin API 2 that runs ONNX models on ONNX Runtime's CPU
execution provider (one session per stream, on ``ovlite.plugin.StreamsExecutor``), a README
saying what to change, and ``tests/test_conformance.py`` subclassing
``ovlite.testing.conformance.PluginConformance``.  Installed (``pip install -e .``) in an
environment that has ovlite and onnxruntime, ``pytest tests`` passes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .errors import ArgumentError
from .hookspecs import PLUGIN_API_VERSION

#: Device names of ovlite itself; those of its packages (CPU, GPU, ...) come from KNOWN_PACKAGES.
TAKEN_DEVICES = frozenset({"AUTO", "BATCH", "HETERO", "MULTI"})

_NAME = re.compile(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*")
_DEVICE = re.compile(r"[A-Z][A-Z0-9_]*")


class PluginNameError(ArgumentError):
    """``ovlite new-plugin`` was given a plugin or device name it cannot use."""


class PluginDirectoryError(ArgumentError):
    """``ovlite new-plugin`` would write into a folder that already has files."""


@dataclass(frozen=True)
class PluginNames:
    """The names a plugin called ``name`` goes by."""

    name: str  # the entry point: what OVLITE_PLUGINS selects ("my-device")
    distribution: str  # what pip installs ("ovlite-my-device")
    module: str  # what Python imports ("ovlite_my_device")
    device: str  # what users type ("MY_DEVICE")
    classname: str  # the prefix of the classes ("MyDevice")


def plugin_names(name: str, device: str | None = None) -> PluginNames:
    """The names of a plugin, from its ``NAME`` (``mydevice``, ``my-device``, or with the
    ``ovlite-`` prefix) and an optional device name; :class:`PluginNameError` naming the bad
    value and what is allowed."""
    given = name
    short = name.lower()
    for prefix in ("ovlite-", "ovlite_"):
        if short.startswith(prefix):
            short = short[len(prefix) :]
    if not _NAME.fullmatch(short):
        raise PluginNameError(
            f"bad plugin name {given!r}: use letters, digits and single '-' or '_' between "
            f"them, starting with a letter (e.g. 'mydevice' or 'my-device'; the package is "
            f"then ovlite-mydevice)"
        )
    words = re.split(r"[-_]", short)
    device_name = (device if device is not None else "_".join(words)).upper()
    if not _DEVICE.fullmatch(device_name):
        raise PluginNameError(
            f"bad device name {device_name!r}: use upper-case letters, digits and '_', "
            f"starting with a letter (e.g. 'MYDEV'); '.', ':' and ',' belong to device strings"
        )
    if device_name in TAKEN_DEVICES or device_name in _project_devices():
        raise PluginNameError(
            f"device name {device_name!r} is taken by ovlite or one of its packages; "
            f"choose another (with --device)"
        )
    return PluginNames(
        name=short,
        distribution=f"ovlite-{'-'.join(words)}",
        module=f"ovlite_{'_'.join(words)}",
        device=device_name,
        classname="".join(word.capitalize() for word in words),
    )


def _project_devices() -> set[str]:
    from .plugins import KNOWN_PACKAGES

    return set(KNOWN_PACKAGES)


def new_plugin(name: str, directory: str | Path | None = None, device: str | None = None) -> Path:
    """Write the plugin package for ``name`` into ``directory`` (default ``./ovlite-<name>``);
    return the folder.  The folder must not exist, or be empty
    (:class:`PluginDirectoryError` otherwise); nothing is written when a name is bad."""
    names = plugin_names(name, device)
    target = Path(directory) if directory is not None else Path(names.distribution)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        what = "a folder that is not empty" if target.is_dir() else "a file"
        raise PluginDirectoryError(
            f"cannot write the plugin into {str(target)!r}: it is {what}; "
            f"pass --dir with a new folder"
        )
    files = render(names)
    for relative, text in files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return target


def render(names: PluginNames) -> dict[str, str]:
    """The package's files, by path relative to its folder."""
    values = {
        "name": names.name,
        "distribution": names.distribution,
        "module": names.module,
        "device": names.device,
        "classname": names.classname,
        "api": str(PLUGIN_API_VERSION),
        "ovlite_version": __version__,
    }
    return {
        "pyproject.toml": PYPROJECT.format(**values),
        "README.md": README.format(**values),
        ".gitignore": GITIGNORE,
        f"src/{names.module}/__init__.py": INIT.format(**values),
        f"src/{names.module}/device.py": DEVICE.format(**values),
        "tests/test_conformance.py": CONFORMANCE.format(**values),
    }


# ---- the files ---------------------------------------------------------------------------------
# str.format templates: {{ and }} are literal braces.

PYPROJECT = """\
[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "{distribution}"
version = "0.1.0"
description = "The {device} device for ovlite."
readme = "README.md"
requires-python = ">=3.11"
# ovlite: the first version implementing plugin API {api} (the module declares
# OVLITE_PLUGIN_API = {api}); onnxruntime: the runtime the device runs on.
dependencies = ["ovlite>={ovlite_version}", "onnxruntime"]

[project.optional-dependencies]
test = ["pytest>=7"]

# How ovlite finds the plugin: group "ovlite"; the name is what OVLITE_PLUGINS selects, the
# value the module with the ovlite_devices hook.
[project.entry-points.ovlite]
{name} = "{module}"

[tool.setuptools.packages.find]
where = ["src"]
"""

GITIGNORE = """\
__pycache__/
*.egg-info/
build/
dist/
"""

INIT = '''\
"""{distribution}: the {device} device for ovlite.

ovlite finds this module through the entry point in ``pyproject.toml`` and calls
:func:`ovlite_devices` once.  Importing it must stay cheap: the runtime is imported when
the device is probed or compiles a model (see ``device.py``).
"""

from __future__ import annotations

from ovlite import plugin

from .device import {classname}CompiledModel, {classname}Device

#: The plugin contract this plugin was written for: a number, not a lookup, so that a core
#: implementing another contract refuses the plugin with a message naming both.
OVLITE_PLUGIN_API = {api}

__all__ = ["OVLITE_PLUGIN_API", "{classname}CompiledModel", "{classname}Device", "ovlite_devices"]


@plugin.hookimpl
def ovlite_devices() -> list[plugin.Device]:
    """The devices this plugin provides.  Creating one must not probe hardware."""
    return [{classname}Device()]
'''

DEVICE = '''\
"""The {device} device: ONNX models on ONNX Runtime's CPU execution provider.

Written by ``ovlite new-plugin`` as a working start: replace the runtime with yours.  It
imports only the plugin API: ``ovlite`` (errors, types), ``ovlite.plugin`` (the device
side) and ``ovlite.properties`` (keys).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

import ovlite.properties as props
from ovlite import plugin
from ovlite.properties.hint import PerformanceMode

log = logging.getLogger("ovlite.{name}")

#: The ONNX Runtime execution provider that runs the device.
PROVIDER = "CPUExecutionProvider"
#: Streams the THROUGHPUT hint picks.
THROUGHPUT_STREAMS = 2


class {classname}Device(plugin.Device):
    """The {device} device family."""

    name = "{device}"  # what users type
    priority = 5  # AUTO tries higher first: accelerators >= 100, CPU 10
    # Each writable property once, with its default (and a check= for values the device
    # cannot honour); the core refuses every other key and reports these defaults.
    settings = (
        plugin.Setting(props.hint.performance_mode, PerformanceMode.LATENCY),
        plugin.Setting(props.hint.num_requests, 0),
        plugin.Setting(props.streams.num, 1),
    )
    # Added to the reason when availability() says no (DeviceUnavailableError).
    install_hint = "{distribution} needs onnxruntime: pip install onnxruntime"

    def availability(self) -> plugin.Availability:
        return plugin.provider_availability(PROVIDER)

    def device_properties(self, device_id: str | None = None) -> dict[str, Any]:
        """Read-only facts; the core adds the defaults of ``settings``.  Never raises."""
        return {{props.range_for_streams.name: (1, os.cpu_count() or 1)}}

    def onnxruntime_provider(
        self, device_id: str | None, config: Mapping[str, Any]
    ) -> tuple[str, dict[str, str]]:
        """The provider and its options (HETERO and query_model use them)."""
        return PROVIDER, {{}}

    def compile_model(
        self,
        model: plugin.Model,
        spec: plugin.DeviceSpec,
        config: dict[str, Any],
        host: plugin.DeviceHost,
    ) -> plugin.CompiledModel:
        return {classname}CompiledModel(model, spec.full_name, config)


def plan_streams(config: Mapping[str, Any]) -> tuple[int, str]:
    """The number of streams for a checked config, and the sentence that explains it."""
    hint = config.get(props.hint.performance_mode.name, PerformanceMode.LATENCY)
    requested = config.get(props.streams.num.name)  # a number, or AUTO (-1) / NUMA (-2)
    cap = int(config.get(props.hint.num_requests.name, 0))
    if requested is not None and int(requested) >= 1:
        return int(requested), f"NUM_STREAMS={{int(requested)}} (explicit)"
    if requested is None and hint == PerformanceMode.LATENCY:
        return 1, "LATENCY: 1 stream"
    streams, why = THROUGHPUT_STREAMS, f"{{hint}}: {{THROUGHPUT_STREAMS}} streams"
    if 0 < cap < streams:
        streams, why = cap, f"{{why}}, capped to {{cap}} by PERFORMANCE_HINT_NUM_REQUESTS"
    return streams, why


class {classname}CompiledModel(plugin.CompiledModel):
    """One ONNX Runtime session per stream, run by the streams executor handed to the base
    class: it queues jobs, runs sync calls in the caller's thread and closes the streams."""

    def __init__(self, model: plugin.Model, device_name: str, config: Mapping[str, Any]) -> None:
        import onnxruntime

        streams, why = plan_streams(config)
        threads = max(1, (os.cpu_count() or 1) // streams)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        what = f"{{device_name}} cannot compile {{model.friendly_name!r}}"
        sessions = [
            plugin.create_session(model.to_bytes(), options, [(PROVIDER, {{}})], what)
            for _ in range(streams)
        ]
        reason = f"{{why}} of {{threads}} thread(s) each"
        log.debug("%s: %s", device_name, reason)
        run = plugin.session_runner(
            [port.any_name for port in model.outputs],
            [port.any_name for port in model.inputs],
            {{"device": device_name}},
        )
        # the sessions' own run (_sess) skips the wrapper's input checks: ovlite did them
        contexts = [getattr(session, "_sess", session) for session in sessions]
        super().__init__(
            model,
            device_name,
            {{
                props.hint.performance_mode.name: config.get(
                    props.hint.performance_mode.name, PerformanceMode.LATENCY
                ),
                props.streams.num.name: streams,
                props.inference_num_threads.name: threads,
                props.optimal_number_of_infer_requests.name: streams,
                props.configuration_reason.name: reason,
            }},
            plugin.StreamsExecutor(contexts, run, device_name),
        )
'''

CONFORMANCE = '''\
"""The ovlite conformance suite on {device}, as installed: ``pip install -e '.[test]'``,
then ``pytest -rs tests``."""

from ovlite.testing.conformance import PluginConformance


class Test{classname}Conformance(PluginConformance):
    device = "{device}"
    package = "{distribution}"
    supports_cancellation = True  # jobs wait in the streams executor's queue
    supports_throughput_streams = True  # NUM_STREAMS=2 runs two sessions side by side
    supports_dynamic_shapes = True  # ONNX Runtime takes any size the model allows
    supports_profiling = False  # set True once PERF_COUNT fills request.profiling_info
'''

README = """\
# {distribution}

The `{device}` device for ovlite: ONNX models on ONNX Runtime's CPU
execution provider, one session per stream. Written by `ovlite new-plugin {name}` on
plugin API {api}; it passes ovlite's conformance suite as written. Change it into yours.

```sh
pip install -e '.[test]'      # beside ovlite (and onnxruntime)
ovlite devices                # {device}: available, from {distribution}
pytest -rs tests              # the conformance suite; skipped tests say which claims are off
ovlite conformance {device} --claims cancellation,throughput_streams,dynamic_shapes
python -m pip wheel --no-deps -w dist .
```

## Files

| file | what it is |
|---|---|
| `pyproject.toml` | the package, its dependencies and the `ovlite` entry point `{name}` |
| `src/{module}/__init__.py` | `OVLITE_PLUGIN_API = {api}` and the `ovlite_devices` hook |
| `src/{module}/device.py` | the device (availability, settings, install hint) and its compiled model |
| `tests/test_conformance.py` | the conformance suite, with the claims the device makes |

## Making it yours

- `availability()`: say whether your runtime or driver works here, and what is missing
  when it does not; `install_hint` is added to that reason when compiling fails.
- `settings`: each property the device takes, once, with its default and a `check` for
  values it cannot honour; a key of your own is made with `ovlite.properties.register_key`.
- `{classname}CompiledModel`: one execution context of your runtime per stream, and a
  `run(context, inputs) -> (outputs, info)` function for `ovlite.plugin.StreamsExecutor`.
- `plan_streams`: what LATENCY and THROUGHPUT mean on your device; say why in the reason.
- `tests/test_conformance.py`: the claims (`supports_*`) your device makes.

The contract is in ovlite's `docs/plugins.md`.
"""
