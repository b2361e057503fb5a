"""Connecting to Ray, and how many replicas of what size the cluster can hold."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping

from ovlite import DeviceUnavailableError
from ovlite.plugin import DeviceSpec

log = logging.getLogger("ovlite.ray")
_connect_lock = threading.Lock()
#: Ray reads this to decide whether one machine is a cluster (bound to its public address).
_LOOPBACK_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


def connect(address: str = "") -> str:
    """Make sure this process is connected to a Ray cluster; return the cluster's address.

    An existing connection (``ray.init`` called by the program) is used as it is.  Otherwise
    ``address``, else ``$RAY_ADDRESS``, names the cluster; with neither, a local instance is
    started on the loopback interface (:func:`start_local_instance`).
    """
    import ray

    with _connect_lock:
        if not ray.is_initialized():
            target = address or os.environ.get("RAY_ADDRESS", "")
            try:
                if target:
                    ray.init(address=target, logging_level=logging.WARNING)
                else:
                    start_local_instance()
            except Exception as exc:
                where = target or "a local instance"
                raise DeviceUnavailableError(
                    f"RAY could not connect to {where}: {type(exc).__name__}: {exc}"
                ) from exc
        elif address and address not in ("auto", ray.get_runtime_context().gcs_address):
            log.warning(
                "RAY_ADDRESS=%s ignored: this process is already connected to %s",
                address,
                ray.get_runtime_context().gcs_address,
            )
        return ray.get_runtime_context().gcs_address


def start_local_instance(num_cpus: int | None = None, num_gpus: int | None = None) -> str:
    """Start a Ray instance for this process alone, on 127.0.0.1, without the dashboard and
    with Ray's logging kept to warnings; return its address.  ``ray.shutdown()`` ends it."""
    # Ray binds a single machine to its public address unless told it is not a cluster; the
    # flag is read by this process (at call time) and by the processes Ray starts (from env).
    os.environ[_LOOPBACK_ENV] = "0"
    from ray._private import ray_constants

    if hasattr(ray_constants, "ENABLE_RAY_CLUSTER"):
        ray_constants.ENABLE_RAY_CLUSTER = False
    import ray

    ray.init(
        address="local",
        num_cpus=num_cpus,
        num_gpus=num_gpus,
        include_dashboard=False,
        logging_level=logging.WARNING,
        log_to_driver=False,
    )
    return ray.get_runtime_context().gcs_address


def leaves(spec: DeviceSpec) -> list[DeviceSpec]:
    """The plain devices a device string names: ``MULTI:GPU,BATCH:CPU(4)`` -> GPU, CPU."""
    if spec.children is None:
        return [spec]
    return [leaf for child in spec.children if not child.excluded for leaf in leaves(child)]


def default_resources(replica_device: DeviceSpec) -> dict[str, float]:
    """One CPU per replica, and one GPU when the replica device names a GPU."""
    resources = {"CPU": 1.0}
    if any(leaf.name == "GPU" for leaf in leaves(replica_device)):
        resources["GPU"] = 1.0
    return resources


def replicas_that_fit(resources: Mapping[str, float], available: Mapping[str, float]) -> int:
    """How many replicas needing ``resources`` the ``available`` resources hold (at least 1:
    a replica that does not fit yet waits for resources to be freed)."""
    fits = [
        int(available.get(name, 0.0) // amount) for name, amount in resources.items() if amount > 0
    ]
    return max(1, min(fits)) if fits else 1


def actor_options(resources: Mapping[str, float]) -> dict:
    """``ray.remote(...).options`` keywords reserving ``resources``."""
    custom = {k: v for k, v in resources.items() if k not in ("CPU", "GPU")}
    options: dict = {"num_cpus": resources.get("CPU", 0.0), "num_gpus": resources.get("GPU", 0.0)}
    if custom:
        options["resources"] = custom
    return options
