"""Device identity and per-device configuration."""

from __future__ import annotations

from ._enum import OvEnum
from ._keys import any_value, define, to_device_properties, to_str, to_str_list


class Type(OvEnum):
    """``DEVICE_TYPE`` values."""

    INTEGRATED = 0
    DISCRETE = 1


class Capability:
    """Values found in ``OPTIMIZATION_CAPABILITIES``."""

    FP32 = "FP32"
    BF16 = "BF16"
    FP16 = "FP16"
    INT8 = "INT8"
    INT16 = "INT16"
    BIN = "BIN"
    WINOGRAD = "WINOGRAD"
    EXPORT_IMPORT = "EXPORT_IMPORT"


priorities = define(
    "DEVICE_PRIORITIES",
    to_str_list,
    doc="Children of MULTI/AUTO in priority order, e.g. 'GPU,CPU'.",
)
properties = define(
    "DEVICE_PROPERTIES",
    to_device_properties,
    doc="Per-device configuration: {'CPU': {...}, 'GPU': {...}}.",
)
full_name = define("FULL_DEVICE_NAME", any_value, read_only=True)
capabilities = define("OPTIMIZATION_CAPABILITIES", any_value, read_only=True)
id = define("DEVICE_ID", to_str)
architecture = define("DEVICE_ARCHITECTURE", any_value, read_only=True)
type = define("DEVICE_TYPE", any_value, read_only=True)
priority = define(
    "OVLITE_DEVICE_PRIORITY",
    any_value,
    read_only=True,
    doc="How strongly AUTO prefers this device (higher first); discrete accelerators above CPU.",
)
gops = define("DEVICE_GOPS", any_value, read_only=True)
uuid = define("DEVICE_UUID", any_value, read_only=True)
luid = define("DEVICE_LUID", any_value, read_only=True)
thermal = define("DEVICE_THERMAL", any_value, read_only=True)
pci_info = define("DEVICE_PCI_INFO", any_value, read_only=True)
