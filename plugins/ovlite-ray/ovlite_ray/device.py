"""``RAY:<device>``: a compiled model served by replicas on a Ray cluster.

Compiling starts the replicas (Ray actors) and sends each the model as bytes, once; each
replica compiles it on ``<device>`` through ovlite on its node.  Jobs are balanced over the
replicas by the same :class:`~ovlite.meta.scheduler.LoadBalancer` MULTI uses, each replica a
child with its ``OPTIMAL_NUMBER_OF_INFER_REQUESTS`` as slots.  A replica that dies is taken
out of the rotation at once and replaced by a new one in the background; the jobs it held
fail with :class:`ReplicaLostError` and the balancer runs them again on another replica, so
each user job is still answered exactly once.  A user sees an error only when no replica is
left: every replica failed the job and no replacement could be started.
"""

from __future__ import annotations

import functools
import itertools
import logging
import threading
import time
from typing import Any

from ovlite import properties as props
from ovlite.core import BATCH_KEYS
from ovlite.device import Availability, CompiledModel, Device
from ovlite.device_string import DeviceSpec, single_child
from ovlite.errors import CompileError, DeviceClosedError, InferenceError
from ovlite.jobs import Job
from ovlite.meta.scheduler import CHILD_COMING, Child, LoadBalancer
from ovlite.model import Model
from ovlite.properties.hint import PerformanceMode

from . import keys
from .cluster import actor_options, connect, default_resources, replicas_that_fit
from .replica import Completions, ReplicaHandle, ReplicaLostError

log = logging.getLogger("ovlite.ray")

HINT = props.hint.performance_mode.name
DEVICE_PROPERTIES = props.device.properties.name
#: How long starting a replica may take (scheduling, worker start, compiling) before it fails.
START_TIMEOUT_S = 300.0
#: Tries at replacing a lost replica before giving up on that slot.
REPLACE_ATTEMPTS = 3


class RayDevice(Device):
    """Replicas on a Ray cluster: ``RAY:CPU``, ``RAY:GPU``, ``RAY:MULTI:GPU,CPU``."""

    name = "RAY"
    is_meta = True
    priority = -10  # AUTO never picks meta devices; the number is for listings only
    config_keys = frozenset({HINT, DEVICE_PROPERTIES, *keys.RAY_KEYS})

    def availability(self) -> Availability:
        try:
            import ray
        except ImportError as exc:
            return Availability(False, f"ray cannot be imported ({exc}); pip install ray")
        return Availability(True, f"ray {ray.__version__}")

    def full_device_name(self, device_id: str | None = None) -> str:
        return "RAY (replicas on a Ray cluster)"

    def device_properties(self, device_id: str | None = None) -> dict[str, Any]:
        return {
            HINT: PerformanceMode.THROUGHPUT,
            DEVICE_PROPERTIES: {},
            keys.address.name: "",
            keys.replicas.name: 0,
            keys.replica_resources.name: {},
            keys.replica_hint.name: PerformanceMode.THROUGHPUT,
            keys.runtime_env.name: {},
        }

    def check_config(self, config: Any) -> None:
        try:
            super().check_config(config)
        except Exception as exc:
            raise type(exc)(
                f"{exc}; settings for the replicas' device go in DEVICE_PROPERTIES, "
                f"e.g. {{'DEVICE_PROPERTIES': {{'CPU': {{...}}}}}}"
            ) from None

    def compile_model(
        self, model: Model, spec: DeviceSpec, config: dict[str, Any], core: Any
    ) -> CompiledModel:
        replica_device = replica_spec(spec)
        # the automatic-batching keys every device takes go on to the replicas' device
        self.check_config({k: v for k, v in config.items() if k not in BATCH_KEYS})
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
        self.config.update({k: v for k, v in config.items() if k in BATCH_KEYS})
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
        self._replacing = 0
        self._gave_up = False  # the stand-in that fails jobs once no replica is left is in
        self._ready: list[Child] = []
        self._children: dict[ReplicaHandle, Child] = {}
        for handle in handles:
            handle._on_lost = self._replica_lost
        children = [self._child(handle) for handle in handles]
        self.balancer = LoadBalancer(
            children, str(spec), probe=False, spare=self._spare, on_change=self._refresh
        )
        self._refresh()

    # ---- what users and tests read ---------------------------------------------------------

    def replicas(self) -> list[ReplicaHandle]:
        """The replicas serving now (lost ones and those not started yet excluded)."""
        return [h for h, c in list(self._children.items()) if c.enabled and not h.lost]

    def children(self) -> dict[str, CompiledModel]:
        return {c.name: c.compiled for c in self.balancer.children}

    def _refresh(self) -> None:
        self._properties[keys.replicas.name] = len(self.replicas())
        # the replicas' slots: not the stand-in that fails jobs once every replica is gone
        serving = sum(h.capacity for h in self.replicas())
        self._properties[props.optimal_number_of_infer_requests.name] = serving or 1
        self._properties[props.dropped_devices.name] = self.balancer.dropped()

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

    # ---- lost replicas ---------------------------------------------------------------------

    def _child(self, handle: ReplicaHandle) -> Child:
        child = Child(handle.device_name, handle, handle.capacity)
        self._children[handle] = child
        return child

    def _replica_lost(self, handle: ReplicaHandle, error: BaseException) -> None:
        """Stop feeding ``handle`` and start its replacement (runs before its jobs fail)."""
        child = self._children.get(handle)
        if child is None:
            return
        self.balancer.disable(child, f"{handle.describe()} died: {type(error).__name__}")
        handle.kill()  # if only its node or an object went, its resources go to the replacement
        with self._state:
            closed = self._closed
            if not closed:
                self._replacing += 1
        if closed:  # no replacement after close(); jobs still waiting must not wait for ever
            self._give_up_if_none_left()
            return
        threading.Thread(
            target=self._replace, name=f"{self.device_name}-replace", daemon=True
        ).start()

    def _replace(self) -> None:
        new: ReplicaHandle | None = None
        for attempt in range(1, REPLACE_ATTEMPTS + 1):
            try:
                new = self._starter.start(1, on_lost=self._replica_lost)[0]
                break
            except Exception as exc:
                log.warning(
                    "%s: replacing a lost replica failed (try %d): %s",
                    self.device_name,
                    attempt,
                    exc,
                )
                time.sleep(0.5 * attempt)
        with self._state:
            self._replacing -= 1
            closed = self._closed
            if new is not None and not closed:
                self._ready.append(self._child(new))
            self._state.notify_all()
        if new is not None and closed:
            new.kill()
            self._give_up_if_none_left()
            return
        if new is not None:
            log.info("%s: %s replaces a lost replica", self.device_name, new.describe())
        self._attach_ready()
        if new is None:
            self._give_up_if_none_left()
            self.balancer.fail_stranded()  # jobs that waited for this replacement

    def _attach_ready(self) -> None:
        with self._state:
            ready, self._ready = self._ready, []
        for child in ready:
            self.balancer.add_child(child)

    def _spare(self, failed: set[str]) -> Child | object | None:
        """A job failed on every replica: a replacement that is ready, else ``CHILD_COMING``
        while one is starting (the job waits in the queue for it; nothing blocks), else
        ``None`` (the job fails)."""
        with self._state:
            if self._ready:
                return self._ready.pop(0)
            return CHILD_COMING if self._replacing else None

    def _give_up_if_none_left(self) -> None:
        with self._state:
            if self._replacing or self.replicas() or self._gave_up:
                return
            self._gave_up = True
        # jobs waiting for a free replica would wait for ever: a last child fails them
        self.balancer.add_child(
            Child(f"{self.device_name} (no replica left)", _NoReplica(self), 1 << 30)
        )

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
        for handle in list(self._children):
            handle.kill()
        self._starter.completions.stop()

    def __del__(self) -> None:
        try:
            self._starter.completions.stop()
        except Exception:
            pass


class _NoReplica(CompiledModel):
    """Stands in once every replica is lost and none could be started: fails each job."""

    def __init__(self, owner: RayCompiledModel) -> None:
        super().__init__(owner._model, f"{owner.device_name} (no replica left)", {})

    def submit(self, job: Job) -> None:
        job.refuse(
            InferenceError(f"{self.device_name}: every replica was lost and none could be started")
        )


__all__ = ["RayCompiledModel", "RayDevice", "ReplicaLostError"]
