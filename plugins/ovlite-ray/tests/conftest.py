"""One real local Ray instance for the whole test session (starting one takes seconds), shut
down at the end; every RAY test compiles on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

#: Logical CPUs the instance offers: replicas reserve one each, so up to four run at once.
CLUSTER_CPUS = 4


@pytest.fixture(scope="session", autouse=True)
def ray_instance() -> Iterator[str]:
    import ray
    from ovlite_ray.cluster import start_local_instance

    address = start_local_instance(num_cpus=CLUSTER_CPUS)
    yield address
    ray.shutdown()
