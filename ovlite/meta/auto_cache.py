"""AUTO's decision cache: the measured choice, remembered per model, settings and devices.

A decision is keyed by the model's content, every setting that changes what is measured
(hint, execution mode, precision, accuracy bound, ...), the candidates (name, package and
version, full device name) and ovlite's version, so a change to any of them measures again.
It lives in ``CACHE_DIR/ovlite-auto`` when ``CACHE_DIR`` is set, else in ovlite's per-user
cache folder (``$OVLITE_CACHE_DIR/auto`` if that variable is set, else
``$XDG_CACHE_HOME/ovlite/auto``, by default ``~/.cache/ovlite/auto``), one small JSON file per
decision.  A file that cannot be read or written is ignored (and logged):
the cache only saves time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import __version__
from .. import properties as props
from ..model import Model

log = logging.getLogger("ovlite.meta")

#: Settings that do not change which candidate is fastest or accurate enough.
NOT_IN_KEY = frozenset(
    {
        props.cache_dir.name,
        props.inference_timeout.name,
        props.intel_auto.enable_startup_fallback.name,
        props.intel_auto.enable_runtime_fallback.name,
        props.intel_auto.cache_decision.name,
        props.intel_auto.measure_ms.name,
    }
)


def cache_folder(config: Mapping[str, Any]) -> Path:
    """Where decisions for ``config`` are kept."""
    if config.get(props.cache_dir.name):
        return Path(config[props.cache_dir.name]) / "ovlite-auto"
    if os.environ.get("OVLITE_CACHE_DIR"):
        return Path(os.environ["OVLITE_CACHE_DIR"]) / "auto"
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "ovlite" / "auto"


def decision_key(
    model: Model, config: Mapping[str, Any], candidates: Sequence[Sequence[str]]
) -> str:
    """A name for the decision on ``model`` with ``config`` among ``candidates`` (each
    ``(name, package version, full device name)``)."""
    parts = {
        "model": hashlib.sha256(model.to_bytes()).hexdigest(),
        "config": sorted((k, str(v)) for k, v in config.items() if k not in NOT_IN_KEY),
        "candidates": [list(c) for c in candidates],
        "ovlite": __version__,
        "machine": platform.machine(),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:40]


def load(folder: Path, key: str) -> dict[str, Any] | None:
    """The decision stored under ``key``, or ``None``."""
    path = folder / f"{key}.json"
    try:
        with open(path, encoding="utf-8") as handle:
            record = json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("AUTO: ignoring the unreadable decision cache file %s: %s", path, exc)
        return None
    if not isinstance(record, dict) or not isinstance(record.get("winner"), str):
        log.warning("AUTO: ignoring the malformed decision cache file %s", path)
        return None
    return record


def store(folder: Path, key: str, record: Mapping[str, Any]) -> None:
    """Write ``record`` under ``key`` atomically (readers never see half a file)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(record, out, indent=1)
        os.replace(temporary, folder / f"{key}.json")
    except OSError as exc:
        log.warning("AUTO: could not remember the decision in %s: %s", folder, exc)
