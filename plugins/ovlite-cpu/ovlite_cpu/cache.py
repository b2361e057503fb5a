"""The optimized model on disk: built once per compile, or kept in ``CACHE_DIR``.

ONNX Runtime optimizes a model (fusions, constant folding, the NCHWc layout for this CPU's
vector width) when it creates a session, and can write the result out.  The CPU plugin
always goes through that file: one optimizing session writes the graph (``<key>.onnx``) with
every weight of 1 kB or more moved to a side file (``<key>.bin``); the streams' sessions then load the graph
with optimizations off and take their weights from one shared copy read from the side file
(see :mod:`ovlite_cpu.weights`).

Without ``CACHE_DIR`` the files live in a temporary folder for the compiled model's
lifetime.  With it, they are kept under ``CACHE_DIR/ovlite-cpu/`` keyed by a hash of the
model bytes, the ONNX Runtime version, the CPU's instruction set and the settings that change
the optimized graph, next to a JSON sidecar holding the sha256 of each file.  Entries are
written to a temporary folder and moved in with ``os.replace`` (sidecar last); an entry whose
sidecar is missing or does not match its files, or that fails to load, is rebuilt, never
trusted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .topology import cpu_flags, cpu_name

log = logging.getLogger("ovlite.cpu")

#: Bump when the layout of cache entries changes; old entries are then rebuilt.
CACHE_FORMAT = 1
SUBDIR = "ovlite-cpu"

#: ``optimize(source_bytes, graph_path, weights_file_name)`` writes the optimized model.
Optimizer = Callable[[bytes, str, str], None]


def cache_key(model_bytes: bytes, ort_version: str, settings: Mapping[str, Any]) -> str:
    """A hex digest naming the cache entry for a model, runtime version, CPU and settings."""
    digest = hashlib.sha256()
    digest.update(hashlib.sha256(model_bytes).digest())
    header = {
        "format": CACHE_FORMAT,
        "onnxruntime": ort_version,
        "cpu": cpu_name(),
        "isa": hashlib.sha256(cpu_flags().encode()).hexdigest(),
        "settings": {k: str(v) for k, v in sorted(settings.items())},
    }
    digest.update(json.dumps(header, sort_keys=True).encode())
    return digest.hexdigest()[:32]


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class OptimizedModel:
    """The optimized graph file and its weights file, and whether they came from the cache.

    ``weights_sha256`` is what the sidecar promised for the weights file (cache hits only);
    the weights loader checks it on the bytes it reads.  ``note`` tells what happened to the
    cache, for the configuration reason.
    """

    graph_path: str
    weights_path: str | None
    loaded_from_cache: bool
    weights_sha256: str | None = None
    note: str = ""
    _tempdir: str | None = field(default=None, repr=False)

    def discard(self) -> None:
        """Delete the files when they are not a cache entry (call when done with them)."""
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)
            self._tempdir = None


def build_temporary(model_bytes: bytes, optimize: Optimizer) -> OptimizedModel:
    """Optimize into a fresh temporary folder, deleted by :meth:`OptimizedModel.discard`."""
    folder = tempfile.mkdtemp(prefix="ovlite-cpu-")
    try:
        graph, weights = _write(model_bytes, optimize, folder, "model")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return OptimizedModel(graph, weights, False, _tempdir=folder)


class ModelCache:
    """Optimized models kept in ``cache_dir/ovlite-cpu``, one entry per key."""

    def __init__(self, cache_dir: str | os.PathLike) -> None:
        self.root = Path(cache_dir) / SUBDIR

    def paths(self, key: str) -> tuple[Path, Path, Path]:
        return self.root / f"{key}.onnx", self.root / f"{key}.bin", self.root / f"{key}.json"

    def lookup(self, key: str, ort_version: str) -> OptimizedModel | None:
        """The entry for ``key`` if its sidecar and graph check out, else ``None``.

        The weights file's hash is checked later, while its bytes are read once for use.
        """
        graph, weights, sidecar = self.paths(key)
        try:
            meta = json.loads(sidecar.read_text())
            if (
                meta.get("format") != CACHE_FORMAT
                or meta.get("key") != key
                or meta.get("onnxruntime") != ort_version
            ):
                log.debug("cache entry %s is stale (%s); rebuilding", key, meta)
                return None
            if file_sha256(graph) != meta["graph_sha256"]:
                log.warning(
                    "cache entry %s: graph file does not match its sidecar; rebuilding", key
                )
                return None
            weights_sha = meta.get("weights_sha256")
            if weights_sha is not None and not weights.is_file():
                return None
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("cache entry %s is unreadable (%s); rebuilding", key, exc)
            return None
        return OptimizedModel(
            str(graph), str(weights) if weights_sha else None, True, weights_sha256=weights_sha
        )

    def store(
        self, key: str, ort_version: str, model_bytes: bytes, optimize: Optimizer
    ) -> OptimizedModel:
        """Optimize the model into a new entry for ``key``, replacing any old one atomically."""
        self.root.mkdir(parents=True, exist_ok=True)
        folder = tempfile.mkdtemp(prefix=".tmp-", dir=self.root)
        try:
            graph_tmp, weights_tmp = _write(model_bytes, optimize, folder, key)
            meta = {
                "format": CACHE_FORMAT,
                "key": key,
                "onnxruntime": ort_version,
                "graph_sha256": file_sha256(graph_tmp),
                "weights_sha256": file_sha256(weights_tmp) if weights_tmp else None,
            }
            sidecar_tmp = os.path.join(folder, f"{key}.json")
            with open(sidecar_tmp, "w") as handle:
                json.dump(meta, handle, indent=1)
            graph, weights, sidecar = self.paths(key)
            sidecar.unlink(missing_ok=True)  # readers see no entry while the files change
            if weights_tmp:
                os.replace(weights_tmp, weights)
            os.replace(graph_tmp, graph)
            os.replace(sidecar_tmp, sidecar)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return OptimizedModel(
            str(graph),
            str(weights) if weights_tmp else None,
            False,
            weights_sha256=meta["weights_sha256"],
        )

    def invalidate(self, key: str) -> None:
        """Remove an entry that failed to load."""
        for path in self.paths(key):
            path.unlink(missing_ok=True)


def _write(
    model_bytes: bytes, optimize: Optimizer, folder: str, stem: str
) -> tuple[str, str | None]:
    graph = os.path.join(folder, f"{stem}.onnx")
    weights_name = f"{stem}.bin"
    optimize(model_bytes, graph, weights_name)
    weights = os.path.join(folder, weights_name)
    return graph, weights if os.path.isfile(weights) else None
