"""Which GPUs this process can use, as ``GPU.0``, ``GPU.1``, ... in a stable order.

The heart is a pure function, :func:`enumerate_gpus`, from *device records* to the GPU list,
so tests feed it recorded lists.  A record is a plain dict shaped like one entry of ONNX
Runtime's ``onnxruntime.get_ep_devices()`` (1.23 and later)::

    {"ep_name": "CUDAExecutionProvider", "ep_vendor": "Microsoft",
     "ep_metadata": {...}, "ep_options": {...},
     "device": {"type": "GPU", "vendor": "NVIDIA", "vendor_id": 4318, "device_id": 8885,
                "metadata": {"pci_bus_id": "0000:65:00.0", "card_idx": "1"}}}

:func:`read_ep_devices` turns the live objects into such dicts; :func:`parse_nvidia_smi`
turns ``nvidia-smi`` CSV into the same shape (with name, memory and driver, which the device
API does not report).

Ordering and numbering (documented in the plugin README):

- GPUs are sorted by PCI bus id (``0000:65:00.0``), so ``GPU.N`` does not change between runs
  or with the driver's "fastest first" order; records without a bus id follow, in the order
  given.  One physical GPU listed by several providers (TensorRT and CUDA) is one device.
- The provider's device number (CUDA's ``device_id``) is ``ep_options["device_id"]`` when the
  record carries it, else the position in that order: the plugin sets
  ``CUDA_DEVICE_ORDER=PCI_BUS_ID`` (unless already set) so that CUDA numbers GPUs the same way.
- ``CUDA_VISIBLE_DEVICES`` (indices or ``GPU-`` UUID prefixes) hides GPUs from CUDA and
  renumbers the rest; the same filter applies here, so ``GPU.N`` is what CUDA calls N.
- Fallback for builds without the device API, or when it lists no GPU for the provider
  (CUDA's provider-bridge library is not registered with the device API by default): for
  CUDA, ``nvidia-smi``; for the others, or without ``nvidia-smi``, one ``GPU.0`` on the
  provider's default device, marked as such in its properties.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .backends import CUDA, VENDORS, Backend, backend_for

Record = Mapping[str, Any]

NVIDIA_SMI_QUERY = "index,pci.bus_id,name,memory.total,driver_version,uuid"
_BUS_ID = re.compile(r"^(?:([0-9a-fA-F]+):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\.([0-7])$")


@dataclass(frozen=True)
class GPUInfo:
    """One GPU as ovlite shows it: ``GPU.<index>``."""

    index: str
    backend: Backend
    #: The provider's device number (CUDA ``device_id``); ``None``: the provider's default.
    ordinal: int | None
    name: str
    vendor: str = ""
    vendor_id: int = 0
    pci_device_id: int = 0
    pci_bus_id: str = ""
    uuid: str = ""
    memory_bytes: int | None = None
    driver: str = ""
    #: Where the entry came from: "onnxruntime device API", "nvidia-smi" or "default device".
    source: str = ""
    metadata: dict[str, str] = field(default_factory=dict)


def normalize_bus_id(text: str) -> str:
    """``"00000000:65:00.0"`` (NVML) and ``"0000:65:00.0"`` (sysfs) -> ``"0000:65:00.0"``;
    anything unparseable comes back lower-cased as it is."""
    match = _BUS_ID.match(text.strip())
    if not match:
        return text.strip().lower()
    domain, bus, device, function = match.groups()
    return f"{int(domain or '0', 16):04x}:{int(bus, 16):02x}:{int(device, 16):02x}.{function}"


def enumerate_gpus(
    records: Sequence[Record],
    available_providers: Sequence[str],
    visible_devices: str | None = None,
    fallback_records: Sequence[Record] = (),
) -> list[GPUInfo]:
    """The GPU list for the preferred backend among ``available_providers``.

    ``records`` are device-API records; ``fallback_records`` (``nvidia-smi``'s) are used when
    ``records`` hold no GPU for the backend, and otherwise only to add names, memory and
    driver versions to matching bus ids.  ``visible_devices`` is ``CUDA_VISIBLE_DEVICES``.
    """
    backend = backend_for(list(available_providers))
    if backend is None:
        return []
    own = _gpu_records(records, backend)
    source = "onnxruntime device API"
    if not own and backend is CUDA and fallback_records:
        own, source = _gpu_records(fallback_records, backend), "nvidia-smi"
    if not own:
        return [
            GPUInfo(
                "0",
                backend,
                0 if backend.device_option else None,
                f"{backend.name} default device",
                source="default device",
            )
        ]
    extra = {_bus(r): _meta(r) for r in fallback_records if _bus(r)}
    own = [_with_metadata(r, extra.get(_bus(r), {})) for r in _sorted_unique(own)]
    explicit = all("device_id" in (r.get("ep_options") or {}) for r in own)
    if backend is CUDA and not explicit:
        own = filter_visible(own, visible_devices)
    gpus = []
    for position, record in enumerate(own):
        ordinal = int(record["ep_options"]["device_id"]) if explicit else position
        gpus.append(_info(str(position), backend, ordinal, record, source))
    return gpus


def _with_metadata(record: Record, extra: Mapping[str, str]) -> Record:
    """``record`` with ``extra`` added under its hardware metadata (its own keys win)."""
    device = dict(record.get("device") or {})
    device["metadata"] = {**extra, **(device.get("metadata") or {})}
    return {**record, "device": device}


def filter_visible(records: list[Record], visible_devices: str | None) -> list[Record]:
    """Apply ``CUDA_VISIBLE_DEVICES``: indices into ``records`` or UUID prefixes, in the
    order listed; like CUDA, stop at the first entry that matches nothing."""
    if visible_devices is None:
        return records
    chosen: list[Record] = []
    for token in (t.strip() for t in visible_devices.split(",")):
        if token.isdigit() and int(token) < len(records):
            match: Record | None = records[int(token)]
        else:
            prefix = token.lower()
            match = next(
                (
                    r
                    for r in records
                    if prefix and _meta(r).get("uuid", "").lower().startswith(prefix)
                ),
                None,
            )
        if match is None or match in chosen:
            break
        chosen.append(match)
    return chosen


def _gpu_records(records: Sequence[Record], backend: Backend) -> list[Record]:
    return [
        r
        for r in records
        if r.get("ep_name") == backend.provider
        and str((r.get("device") or {}).get("type", "")).upper().endswith("GPU")
    ]


def _meta(record: Record) -> Mapping[str, str]:
    return (record.get("device") or {}).get("metadata") or {}


def _bus(record: Record) -> str:
    bus = _meta(record).get("pci_bus_id", "")
    return normalize_bus_id(bus) if bus else ""


def _sorted_unique(records: list[Record]) -> list[Record]:
    seen: set[Any] = set()
    unique = []
    for record in records:
        device = record.get("device") or {}
        key = _bus(record) or (
            device.get("vendor_id"),
            device.get("device_id"),
            _meta(record).get("card_idx", ""),
            _meta(record).get("uuid", ""),
        )
        if key not in seen:
            seen.add(key)
            unique.append(record)
    with_bus = sorted((r for r in unique if _bus(r)), key=_bus)
    return with_bus + [r for r in unique if not _bus(r)]


def _info(
    index: str,
    backend: Backend,
    ordinal: int,
    record: Record,
    source: str,
) -> GPUInfo:
    device = record.get("device") or {}
    meta = _meta(record)
    vendor_id = int(device.get("vendor_id") or 0)
    vendor = str(device.get("vendor") or VENDORS.get(vendor_id, ""))
    pci_device_id = int(device.get("device_id") or 0)
    name = (
        meta.get("name")
        or meta.get("Description")
        or (
            f"{vendor or 'GPU'} device {pci_device_id:04x}"
            if pci_device_id
            else f"{backend.name} GPU"
        )
    )
    memory = meta.get("memory_total_mib")
    return GPUInfo(
        index=index,
        backend=backend,
        ordinal=ordinal if backend.device_option else None,
        name=name,
        vendor=vendor,
        vendor_id=vendor_id,
        pci_device_id=pci_device_id,
        pci_bus_id=_bus(record),
        uuid=meta.get("uuid", ""),
        memory_bytes=int(float(memory) * 1024 * 1024) if memory else None,
        driver=meta.get("driver_version", ""),
        source=source,
        metadata=dict(meta),
    )


# ---- reading the live sources ------------------------------------------------------------------


def read_ep_devices(ort: Any) -> list[dict[str, Any]]:
    """``ort.get_ep_devices()`` as plain records; ``[]`` on builds without the device API."""
    get = getattr(ort, "get_ep_devices", None)
    if get is None:
        return []
    records = []
    for ep_device in get():
        hardware = ep_device.device
        kind = getattr(hardware.type, "name", str(hardware.type))
        records.append(
            {
                "ep_name": ep_device.ep_name,
                "ep_vendor": ep_device.ep_vendor,
                "ep_metadata": dict(ep_device.ep_metadata),
                "ep_options": dict(ep_device.ep_options),
                "device": {
                    "type": kind,
                    "vendor": hardware.vendor,
                    "vendor_id": int(hardware.vendor_id),
                    "device_id": int(hardware.device_id),
                    "metadata": dict(hardware.metadata),
                },
            }
        )
    return records


def parse_nvidia_smi(text: str) -> list[dict[str, Any]]:
    """Records from ``nvidia-smi --query-gpu=<NVIDIA_SMI_QUERY> --format=csv,noheader,nounits``."""
    records = []
    for row in csv.reader(io.StringIO(text)):
        if len(row) < 6:
            continue
        _, bus, name, memory, driver, uuid = (cell.strip() for cell in row[:6])
        records.append(
            {
                "ep_name": CUDA.provider,
                "ep_options": {},
                "device": {
                    "type": "GPU",
                    "vendor": "NVIDIA",
                    "vendor_id": 0x10DE,
                    "device_id": 0,
                    "metadata": {
                        "pci_bus_id": bus,
                        "name": name,
                        "memory_total_mib": memory,
                        "driver_version": driver,
                        "uuid": uuid,
                    },
                },
            }
        )
    return records


def run_nvidia_smi(timeout_s: float = 10.0) -> list[dict[str, Any]]:
    """``nvidia-smi``'s GPU list as records; ``[]`` when it is missing or fails."""
    command = shutil.which("nvidia-smi")
    if command is None:
        return []
    try:
        done = subprocess.run(
            [command, f"--query-gpu={NVIDIA_SMI_QUERY}", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    return parse_nvidia_smi(done.stdout) if done.returncode == 0 else []


__all__ = [
    "GPUInfo",
    "enumerate_gpus",
    "filter_visible",
    "normalize_bus_id",
    "parse_nvidia_smi",
    "read_ep_devices",
    "run_nvidia_smi",
]
