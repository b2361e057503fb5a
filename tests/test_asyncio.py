"""``await compiled.infer_async`` and ``await request.infer_async`` do not block the loop."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

import ovlite as ov
from ovlite import models
from ovlite.testing import StandInDevice


def run(coroutine):  # noqa: ANN001, ANN201
    return asyncio.run(coroutine)


def test_many_concurrent_infer_async(core: ov.Core) -> None:
    compiled = core.compile_model(
        models.tiny_mlp(batch=1), "STANDIN", {"PERFORMANCE_HINT": "THROUGHPUT"}
    )
    xs = [np.full((1, 16), i / 10, dtype=np.float32) for i in range(30)]

    async def main() -> list[ov.CompiledModel]:
        return await asyncio.gather(*(compiled.infer_async({"x": x}) for x in xs))

    results = run(main())
    for x, result in zip(xs, results, strict=True):
        np.testing.assert_allclose(result[0], compiled(x)[0], rtol=1e-6)


def test_loop_keeps_running_while_inference_is_in_flight(
    core: ov.Core, standin: StandInDevice
) -> None:
    standin.delay_ms = 150
    compiled = core.compile_model(models.tiny_mlp(batch=1), "STANDIN")
    request = compiled.create_infer_request()

    async def main() -> int:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        task = asyncio.create_task(ticker())
        result = await request.infer_async({"x": np.ones((1, 16), np.float32)})
        task.cancel()
        assert result[0].shape == (1, 8)
        return ticks

    assert run(main()) >= 3


def test_infer_async_raises_the_inference_error(core: ov.Core, standin: StandInDevice) -> None:
    standin.fail_when = lambda inputs: True
    compiled = core.compile_model(models.tiny_mlp(batch=1), "STANDIN")
    request = compiled.create_infer_request()
    with pytest.raises(ov.InferenceError):
        run(request.infer_async({"x": np.ones((1, 16), np.float32)}))
    with pytest.raises(ov.InferenceError):
        run(compiled.infer_async({"x": np.ones((1, 16), np.float32)}))
    with pytest.raises(ov.InputShapeError):
        run(compiled.infer_async({"x": np.ones((2, 3), np.float32)}))
