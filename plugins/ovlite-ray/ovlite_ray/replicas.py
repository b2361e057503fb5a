"""Starting the replicas of a RAY compiled model: :class:`ReplicaStarter` puts the model's
bytes in Ray's object store once, starts replica actors side by side (at compile time, and one
at a time for replacements) and waits until each has compiled the model on its device."""

from __future__ import annotations

import functools
import itertools
from typing import Any

from ovlite import CompileError, Model
from ovlite import properties as props
from ovlite.plugin import DeviceSpec
from ovlite.properties.hint import PerformanceMode

from . import keys
from .cluster import actor_options, default_resources, replicas_that_fit
from .replica import Completions, ReplicaHandle

HINT = props.hint.performance_mode.name
DEVICE_PROPERTIES = props.device.properties.name
#: How long starting a replica may take (scheduling, worker start, compiling) before it fails.
START_TIMEOUT_S = 300.0


class ReplicaStarter:
    """Starts replicas of one compiled model: the model's bytes go to Ray's object store once
    and every replica (replacements included) reads them from there."""

    def __init__(
        self, model: Model, spec: DeviceSpec, replica_device: DeviceSpec, config: dict[str, Any]
    ) -> None:
        import ray

        self.model = model
        self.label = f"RAY:{replica_device}"
        self.name = str(spec)
        self.replica_device = str(replica_device)
        self.hint = config.get(keys.replica_hint.name) or config.get(
            HINT, PerformanceMode.THROUGHPUT
        )
        self.config = {HINT: self.hint}
        self.config.update({k: v for k, v in config.items() if k in props.BATCH_KEYS})
        if config.get(DEVICE_PROPERTIES):
            self.config[DEVICE_PROPERTIES] = config[DEVICE_PROPERTIES]
        self.resources = config.get(keys.replica_resources.name) or default_resources(
            replica_device
        )
        self.options: dict[str, Any] = {
            **actor_options(self.resources),
            "max_concurrency": _actor_module().MAX_CONCURRENCY,
            "max_restarts": 0,
            "max_task_retries": 0,
        }
        if config.get(keys.runtime_env.name):
            self.options["runtime_env"] = config[keys.runtime_env.name]
        self.model_ref = ray.put(model.to_bytes())
        self.completions = Completions(self.name)
        self._numbers = itertools.count()

    def replicas_that_fit(self) -> int:
        import ray

        return replicas_that_fit(self.resources, ray.available_resources())

    def start(self, count: int, on_lost: Any) -> list[ReplicaHandle]:
        """Start ``count`` replicas side by side and wait until each has compiled the model."""
        import ray
        from ray.exceptions import GetTimeoutError

        replica_class = _replica_class()
        cpus = float(self.resources.get("CPU", 0.0))
        actors = [
            replica_class.options(**self.options).remote(
                self.model_ref, self.replica_device, self.config, cpus
            )
            for _ in range(count)
        ]
        try:
            facts = ray.get([actor.describe.remote() for actor in actors], timeout=START_TIMEOUT_S)
        except BaseException as exc:
            for actor in actors:
                ray.kill(actor, no_restart=True)
            if isinstance(exc, GetTimeoutError):
                raise CompileError(
                    f"{self.name}: {count} replica(s) reserving {self.resources} each did not "
                    f"start within {START_TIMEOUT_S:.0f} s; the cluster has "
                    f"{ray.available_resources()} free (set RAY_REPLICAS or "
                    f"RAY_REPLICA_RESOURCES)"
                ) from exc
            cause = getattr(exc, "cause", None) or exc
            raise CompileError(
                f"{self.name}: a replica could not compile the model on {self.replica_device}: "
                f"{type(cause).__name__}: {cause}"
            ) from exc
        return [
            ReplicaHandle(
                self.model,
                f"{self.label} replica {next(self._numbers)}",
                self.label,
                actor,
                fact,
                self.completions,
                on_lost or _unowned,
            )
            for actor, fact in zip(actors, facts, strict=True)
        ]


def _actor_module() -> Any:
    from . import actor

    return actor


@functools.cache
def _replica_class() -> Any:
    """The replica actor class, registered with Ray once per process."""
    import ray

    return ray.remote(_actor_module().Replica)


def _unowned(replica: ReplicaHandle, error: BaseException) -> None:
    pass
