"""The RAY device's own properties (registered with ovlite when this module is imported).

``RAY_ADDRESS``            the cluster to use: ``"auto"``, ``"ray://head:10001"``, ``"10.0.0.5:6379"``;
                           empty (the default): ``$RAY_ADDRESS``, else a local instance on loopback
``RAY_REPLICAS``           replicas to start; 0 or ``"AUTO"`` (the default): as many as the cluster's
                           free resources allow; on a compiled model: the replicas alive now
``RAY_REPLICA_RESOURCES``  what each replica reserves, ``{"CPU": 1}``, ``{"GPU": 1}``; empty (the
                           default): one CPU, plus one GPU when the replica device names a GPU
``RAY_REPLICA_HINT``       the PERFORMANCE_HINT each replica compiles with; default: the hint
                           given to RAY, else THROUGHPUT
``RAY_RUNTIME_ENV``        a Ray ``runtime_env`` for the replicas (``{"pip": ["ovlite", ...]}``)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ovlite import PropertyValueError
from ovlite.properties import PropertyKey, enum_of, register_key, to_str
from ovlite.properties.hint import PerformanceMode


def to_replica_count(value: Any) -> int:
    """A whole number >= 0, or ``"AUTO"`` (0): as many replicas as the resources allow."""
    if isinstance(value, str) and value.strip().upper() == "AUTO":
        return 0
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise PropertyValueError("expected a whole number >= 0 or 'AUTO'")
    try:
        number = int(value)
    except ValueError:
        raise PropertyValueError("expected a whole number >= 0 or 'AUTO'") from None
    if number < 0:
        raise PropertyValueError("expected a whole number >= 0 or 'AUTO'")
    return number


def to_resources(value: Any) -> dict[str, float]:
    """``{"CPU": 1, "GPU": 0.5, "my_accelerator": 1}``: non-negative amounts by resource name."""
    if not isinstance(value, Mapping):
        raise PropertyValueError("expected a dict of {resource name: amount}, e.g. {'CPU': 1}")
    resources = {}
    for name, amount in value.items():
        if not isinstance(name, str) or not name:
            raise PropertyValueError(f"resource names are strings, got {name!r}")
        if isinstance(amount, bool) or not isinstance(amount, int | float) or amount < 0:
            raise PropertyValueError(f"the amount of {name} must be a number >= 0, got {amount!r}")
        resources[name] = float(amount)
    return resources


def to_runtime_env(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise PropertyValueError("expected a Ray runtime_env dict, e.g. {'pip': ['ovlite']}")
    return dict(value)


def _define(name: str, convert: Any, doc: str) -> PropertyKey:
    return register_key(PropertyKey(name, convert, doc=doc))


address = _define("RAY_ADDRESS", to_str, "The Ray cluster: empty means $RAY_ADDRESS, else local.")
replicas = _define("RAY_REPLICAS", to_replica_count, "Replicas to start (0/AUTO: as many as fit).")
replica_resources = _define(
    "RAY_REPLICA_RESOURCES", to_resources, "Resources each replica reserves, e.g. {'CPU': 1}."
)
replica_hint = _define(
    "RAY_REPLICA_HINT", enum_of(PerformanceMode), "The PERFORMANCE_HINT replicas compile with."
)
runtime_env = _define("RAY_RUNTIME_ENV", to_runtime_env, "A Ray runtime_env for the replicas.")

#: The keys RAY keeps for itself; every other setting goes to the replicas' device.
RAY_KEYS = frozenset(
    {address.name, replicas.name, replica_resources.name, replica_hint.name, runtime_env.name}
)
