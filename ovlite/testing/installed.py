"""Installed-package metadata written to a folder, for testing install checks.

``write_distribution(site, "onnxruntime", "1.32.0", ["onnxruntime/__init__.py"])`` creates
what pip leaves in site-packages (``<name>-<version>.dist-info`` with ``METADATA`` and a
``RECORD`` of the files) and, unless told otherwise, the files themselves.  Point
:func:`importlib.metadata.distributions` (or :func:`ovlite.onnxruntime_install.inspect`) at
the folder with ``path=[str(site)]``.  This is real metadata read by the real
``importlib.metadata``, not a stand-in for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def write_distribution(
    site: Path,
    name: str,
    version: str,
    files: Iterable[str],
    create_files: bool = True,
    module_version: str | None = None,
) -> Path:
    """Write a distribution's ``.dist-info`` into ``site``; returns its folder.

    ``files`` are paths relative to ``site``.  With ``create_files`` they are created too;
    a file ending in ``__init__.py`` gets ``__version__ = module_version or version``.
    """
    site.mkdir(parents=True, exist_ok=True)
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    listed = list(files)
    record = [f"{path},," for path in listed]
    record += [f"{info.name}/METADATA,,", f"{info.name}/RECORD,,"]
    (info / "RECORD").write_text("\n".join(record) + "\n")
    if create_files:
        for path in listed:
            target = site / path
            target.parent.mkdir(parents=True, exist_ok=True)
            if path.endswith("__init__.py"):
                target.write_text(f'__version__ = "{module_version or version}"\n')
            else:
                target.write_bytes(b"")
    return info


__all__ = ["write_distribution"]
