"""What the CPU offers this process: logical CPUs, physical cores, NUMA nodes, cache, name.

Everything is read from Linux's ``/proc`` and ``/sys`` and the process's CPU affinity and
cgroup quota, so a container limited to 2 CPUs plans for 2.  Where a file is missing (another
OS, a locked-down sandbox) each logical CPU counts as one core in one NUMA node.
"""

from __future__ import annotations

import math
import os
import platform
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_SYS_CPU = Path("/sys/devices/system/cpu")
_SYS_NODE = Path("/sys/devices/system/node")


@dataclass(frozen=True)
class Topology:
    """The CPUs this process may use.

    ``cores`` lists the physical cores, each as the sorted logical CPU ids that share it
    (two with SMT, one without); ``numa_nodes`` lists each node's logical CPU ids; ``quota``
    is the cgroup CPU limit in whole CPUs (``None``: no limit).
    """

    logical: tuple[int, ...]
    cores: tuple[tuple[int, ...], ...]
    numa_nodes: tuple[tuple[int, ...], ...]
    quota: int | None = None
    l3_bytes: int = 0

    @property
    def physical_cores(self) -> int:
        """Physical cores usable here, limited by the cgroup quota."""
        return self._limit(len(self.cores))

    @property
    def logical_cpus(self) -> int:
        """Logical CPUs (hardware threads) usable here, limited by the cgroup quota."""
        return self._limit(len(self.logical))

    def _limit(self, count: int) -> int:
        return max(1, min(count, self.quota) if self.quota else count)

    def pinning_cpus(self, hyper_threading: bool) -> list[int]:
        """Logical CPUs to pin threads to, in order: the first CPU of each core, then (with
        hyper-threading) the second ones, so consecutive threads land on distinct cores."""
        order = [core[0] for core in self.cores]
        if hyper_threading:
            order += [cpu for core in self.cores for cpu in core[1:]]
        return order


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def parse_cpu_list(text: str) -> list[int]:
    """``"0-3,8,10-11"`` -> ``[0, 1, 2, 3, 8, 10, 11]`` (Linux's cpulist format)."""
    cpus: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            first, last = part.split("-", 1)
            cpus.extend(range(int(first), int(last) + 1))
        else:
            cpus.append(int(part))
    return cpus


def _allowed_cpus() -> list[int]:
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return list(range(os.cpu_count() or 1))


def _cores(logical: list[int]) -> list[tuple[int, ...]]:
    allowed = set(logical)
    groups: dict[tuple[int, ...], None] = {}
    for cpu in logical:
        siblings = _read(_SYS_CPU / f"cpu{cpu}" / "topology" / "thread_siblings_list")
        members = parse_cpu_list(siblings) if siblings else [cpu]
        group = tuple(sorted(c for c in members if c in allowed)) or (cpu,)
        groups.setdefault(group, None)
    return sorted(groups, key=lambda group: group[0])


def _numa_nodes(logical: list[int]) -> list[tuple[int, ...]]:
    allowed = set(logical)
    nodes = []
    for node in sorted(_SYS_NODE.glob("node[0-9]*"), key=lambda p: int(p.name[4:])):
        text = _read(node / "cpulist")
        cpus = tuple(c for c in parse_cpu_list(text) if c in allowed) if text else ()
        if cpus:
            nodes.append(cpus)
    return nodes or [tuple(logical)]


def _cgroup_quota() -> int | None:
    text = _read(Path("/sys/fs/cgroup/cpu.max"))  # cgroup v2: "max 100000" or "200000 100000"
    if text:
        quota, _, period = text.partition(" ")
        if quota != "max" and period:
            return max(1, math.ceil(int(quota) / int(period)))
        return None
    quota_v1 = _read(Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"))
    period_v1 = _read(Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us"))
    if quota_v1 and period_v1 and int(quota_v1) > 0:
        return max(1, math.ceil(int(quota_v1) / int(period_v1)))
    return None


def _l3_bytes(cpu: int) -> int:
    size = _read(_SYS_CPU / f"cpu{cpu}" / "cache" / "index3" / "size")
    if not size:
        return 0
    units = {"K": 1024, "M": 1024**2, "G": 1024**3}
    return int(size[:-1]) * units[size[-1]] if size[-1] in units else int(size)


@cache
def detect() -> Topology:
    """The topology of this machine as seen by this process (read once)."""
    logical = _allowed_cpus()
    try:
        quota = _cgroup_quota()
    except (ValueError, OSError):
        quota = None
    try:
        l3 = _l3_bytes(logical[0])
    except ValueError:
        l3 = 0
    return Topology(
        logical=tuple(logical),
        cores=tuple(_cores(logical)),
        numa_nodes=tuple(_numa_nodes(logical)),
        quota=quota,
        l3_bytes=l3,
    )


@cache
def cpu_name() -> str:
    """The processor's marketing name: ``/proc/cpuinfo``'s "model name", else the platform's."""
    text = _read(Path("/proc/cpuinfo")) or ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and value.strip():
            return value.strip()
    return platform.processor() or platform.machine() or "CPU"


@cache
def cpu_flags() -> str:
    """The instruction-set flags from ``/proc/cpuinfo`` (part of the cache key: optimized
    graphs may use a layout chosen for this instruction set)."""
    text = _read(Path("/proc/cpuinfo")) or ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return " ".join(sorted(value.split()))
    return platform.machine()
