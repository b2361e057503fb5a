"""The anchor for serve_bench.py: the real Triton server shipped in the ``nvidia-pytriton``
wheel, serving one ONNX model through an ONNX Runtime session in its Python callable.

    PYTHON benchmarks/_pytriton_anchor.py MODEL.onnx HTTP_PORT

Run with a Python that has ``nvidia-pytriton`` and ``onnxruntime`` (a venv of its own: the
wheel is 500 MB).  Triton's Python backend stub links ``libpython``; the loader would find the
system's before this interpreter's, so this interpreter's library folder goes first.
pytriton 0.7 restricts Triton's statistics endpoint (which perf_analyzer reads) to a generated
access token; the server listens on 127.0.0.1 only, so the restriction is lifted.
"""

from __future__ import annotations

import os
import sys
import sysconfig

import numpy as np
import onnxruntime as ort
from pytriton.decorators import batch
from pytriton.model_config import ModelConfig, Tensor
from pytriton.triton import Triton, TritonConfig

try:
    from pytriton.triton import TritonSecurityConfig
except ImportError:  # before pytriton 0.7 nothing is restricted
    TritonSecurityConfig = None

MAX_BATCH = 8


def main() -> None:
    path, port = sys.argv[1], int(sys.argv[2])
    library = sysconfig.get_config_var("LIBDIR")
    os.environ["LD_LIBRARY_PATH"] = f"{library}:{os.environ.get('LD_LIBRARY_PATH', '')}"
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    source, result = session.get_inputs()[0], session.get_outputs()[0]

    @batch
    def infer(**inputs: np.ndarray) -> dict[str, np.ndarray]:
        return {result.name: session.run(None, {source.name: inputs[source.name]})[0]}

    config = TritonConfig(
        http_address="127.0.0.1", http_port=port, grpc_address="127.0.0.1",
        grpc_port=port + 1, metrics_port=port + 2,
    )  # fmt: skip
    unrestricted = {}
    if TritonSecurityConfig is not None:
        unrestricted["security_config"] = TritonSecurityConfig(restricted_endpoints=[])
    with Triton(config=config, **unrestricted) as triton:
        triton.bind(
            model_name=os.path.splitext(os.path.basename(path))[0],
            infer_func=infer,
            inputs=[Tensor(name=source.name, dtype=np.float32, shape=tuple(source.shape[1:]))],
            outputs=[Tensor(name=result.name, dtype=np.float32, shape=tuple(result.shape[1:]))],
            config=ModelConfig(max_batch_size=MAX_BATCH),
        )
        triton.serve()


if __name__ == "__main__":
    main()
