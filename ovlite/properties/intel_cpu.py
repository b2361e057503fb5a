"""Settings OpenVINO keeps under ``intel_cpu``."""

from __future__ import annotations

from ._enum import OvEnum
from ._keys import define, enum_of, float_at_least, to_bool


class TbbPartitioner(OvEnum):
    """``TBB_PARTITIONER`` values."""

    STATIC = 1
    AUTO = 2


denormals_optimization = define(
    "CPU_DENORMALS_OPTIMIZATION",
    to_bool,
    doc="Treat denormal floats as zero (faster on some models, slightly less exact).",
)
sparse_weights_decompression_rate = define(
    "CPU_SPARSE_WEIGHTS_DECOMPRESSION_RATE", float_at_least(0.0)
)
tbb_partitioner = define("TBB_PARTITIONER", enum_of(TbbPartitioner))
