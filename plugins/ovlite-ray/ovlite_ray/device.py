"""``RAY:<device>``: a compiled model served by replicas on a Ray cluster.

Compiling starts the replicas (Ray actors) and sends each the model as bytes, once; each
replica compiles it on ``<device>`` through ovlite on its node.  Jobs are balanced over the
replicas by the same :class:`~ovlite.meta.scheduler.LoadBalancer` MULTI uses, each replica a
child with its ``OPTIMAL_NUMBER_OF_INFER_REQUESTS`` as slots.  A replica that dies is taken
out of the rotation at once and replaced by a new one in the background; the jobs it held
fail with :class:`ReplicaLostError` and the balancer runs them again on another replica, so
each user job is still answered exactly once.  A user sees an error only when no replica is
left: every replica failed the job and no replacement could be started.

Starting replicas is ``replicas.py``'s job; watching and replacing them, ``supervision.py``'s.
"""

from __future__ import annotations

import threading
from typing import Any

from ovlite import DeviceClosedError, Model
from ovlite import properties as props
from ovlite.plugin import (
    Availability,
    CompiledModel,
    Device,
    DeviceHost,
    DeviceSpec,
    Job,
    LoadBalancer,
    Setting,
    single_child,
)
from ovlite.properties.hint import PerformanceMode

from . import keys
from .cluster import connect
from .replica import ReplicaHandle, ReplicaLostError
from .replicas import HINT, ReplicaStarter
from .supervision import ReplicaSupervisor


class RayDevice(Device):
    """Replicas on a Ray cluster: ``RAY:CPU``, ``RAY:GPU``, ``RAY:MULTI:GPU,CPU``."""

    name = "RAY"
    is_meta = True
    priority = -10  # AUTO never picks meta devices; the number is for listings only
    settings = (
        Setting(props.hint.performance_mode, PerformanceMode.THROUGHPUT),
        Setting(props.device.properties, {}),
        Setting(keys.address, ""),
        Setting(keys.replicas, 0),
        Setting(keys.replica_resources, {}),
        Setting(keys.replica_hint, PerformanceMode.THROUGHPUT),
        Setting(keys.runtime_env, {}),
    )

    def availability(self) -> Availability:
        try:
            import ray
        except ImportError as exc:
            return Availability(False, f"ray cannot be imported ({exc}); pip install ray")
        return Availability(True, f"ray {ray.__version__}")

    def full_device_name(self, device_id: str | None = None) -> str:
        return "RAY (replicas on a Ray cluster)"

    def check_config(self, config: Any) -> None:
        try:
            super().check_config(config)
        except Exception as exc:
            raise type(exc)(
                f"{exc}; settings for the replicas' device go in DEVICE_PROPERTIES, "
                f"e.g. {{'DEVICE_PROPERTIES': {{'CPU': {{...}}}}}}"
            ) from None

    def compile_model(
        self, model: Model, spec: DeviceSpec, config: dict[str, Any], host: DeviceHost
    ) -> CompiledModel:
        replica_device = replica_spec(spec)
        # the automatic-batching keys every device takes go on to the replicas' device
        self.check_config({k: v for k, v in config.items() if k not in props.BATCH_KEYS})
        address = connect(config.get(keys.address.name, ""))
        starter = ReplicaStarter(model, spec, replica_device, config)
        count = config.get(keys.replicas.name) or starter.replicas_that_fit()
        handles = starter.start(count, on_lost=None)
        return RayCompiledModel(model, spec, starter, handles, config, address)


def replica_spec(spec: DeviceSpec) -> DeviceSpec:
    """The device each replica compiles on: the one child of ``RAY:<device>``."""
    return single_child(
        spec,
        "RAY needs the device its replicas run on: RAY:CPU, RAY:GPU",
        "RAY's replicas run one device: RAY:CPU, or RAY:MULTI:GPU,CPU for replicas that "
        "balance over GPU and CPU; to run RAY beside another device put it last: "
        "MULTI:CPU,RAY:CPU",
    )


class RayCompiledModel(CompiledModel):
    """Jobs balanced over replicas; lost replicas replaced; see the module docstring."""

    def __init__(
        self,
        model: Model,
        spec: DeviceSpec,
        starter: ReplicaStarter,
        handles: list[ReplicaHandle],
        config: dict[str, Any],
        address: str,
    ) -> None:
        first = handles[0].facts
        reason = (
            f"{len(handles)} replica(s) of {starter.replica_device} on the Ray cluster at "
            f"{address}, each reserving {starter.resources} and compiled with "
            f"PERFORMANCE_HINT={starter.hint}: {first['optimal_requests']} request(s) each "
            f"({first['reason']})"
        )
        super().__init__(
            model,
            str(spec),
            {
                HINT: config.get(HINT, PerformanceMode.THROUGHPUT),
                props.execution_devices.name: [starter.label],
                props.configuration_reason.name: reason,
                keys.address.name: address,
                keys.replica_resources.name: dict(starter.resources),
                keys.replica_hint.name: starter.hint,
            },
        )
        self._starter = starter
        self._state = threading.Condition()
        self._outstanding = 0
        self._supervisor = ReplicaSupervisor(str(spec), starter, self._state, lambda: self._closed)
        children = self._supervisor.adopt(handles)
        self.balancer = LoadBalancer(
            children, str(spec), probe=False, spare=self._supervisor.spare, on_change=self._refresh
        )
        self._supervisor.balancer = self.balancer
        self._refresh()

    # ---- what users and tests read ---------------------------------------------------------

    def replicas(self) -> list[ReplicaHandle]:
        """The replicas serving now (lost ones and those not started yet excluded)."""
        return self._supervisor.serving()

    def children(self) -> dict[str, CompiledModel]:
        return {c.name: c.compiled for c in self.balancer.children}

    def _refresh(self) -> None:
        self.properties[keys.replicas.name] = len(self.replicas())
        # the replicas' slots: not the stand-in that fails jobs once every replica is gone
        serving = sum(h.capacity for h in self.replicas())
        self.properties[props.optimal_number_of_infer_requests.name] = serving or 1
        self.properties[props.dropped_devices.name] = self.balancer.dropped()

    # ---- jobs ------------------------------------------------------------------------------

    def submit(self, job: Job) -> None:
        """Hand ``job`` to the balancer as it is: it begins when a replica takes it, so it
        can be cancelled (or expire) while it waits for a free replica slot."""
        with self._state:
            refused = self._closed
            if not refused:
                self._outstanding += 1
        if refused:
            job.refuse(DeviceClosedError(f"{self.device_name} is closed"))
            return
        on_done = job.on_done

        def answered(done: Job) -> None:
            try:
                if on_done is not None:
                    on_done(done)
            finally:
                self._answered()

        job.on_done = answered
        self.balancer.submit(job)

    def _answered(self) -> None:
        with self._state:
            self._outstanding -= 1
            last = self._closed and self._outstanding == 0
        if last:
            self._shut_down()

    # ---- closing ---------------------------------------------------------------------------

    def close(self) -> None:
        """Refuse new jobs; the replicas end once the jobs already submitted are answered."""
        with self._state:
            if self._closed:
                return
            self._closed = True
            idle = self._outstanding == 0
        if idle:
            self._shut_down()

    def _shut_down(self) -> None:
        for handle in list(self._supervisor.children):
            handle.kill()
        self._starter.completions.stop()

    def __del__(self) -> None:
        try:
            self._starter.completions.stop()
        except Exception:
            pass


__all__ = ["RayCompiledModel", "RayDevice", "ReplicaLostError"]
