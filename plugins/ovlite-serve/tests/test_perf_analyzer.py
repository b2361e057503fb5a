"""Triton's perf_analyzer (the real C++ binary) against a real server, over HTTP and gRPC.

Each run is bounded: ``--request-count N`` sends exactly N requests (about a second per run).
Needs perf_analyzer: ``python -m ovlite_serve.perf_analyzer_install`` (``make install`` runs
it); without it these tests skip, saying why.
"""

from __future__ import annotations

import base64
import ctypes
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from ovlite_serve import libb64_shim
from ovlite_serve import perf_analyzer as pa


@pytest.fixture(scope="module")
def executable() -> str:
    try:
        return pa.locate()
    except pa.PerfAnalyzerMissing as error:
        pytest.skip(str(error))


def _answered(server, model: str, status: str = "200") -> float:
    page = server.get("/metrics").decode()
    pattern = (
        rf'^ovlite_serve_requests_total{{device="CPU",model="{model}",status="{status}"}} (\S+)$'
    )
    match = re.search(pattern, page, re.M)
    return float(match.group(1)) if match else 0.0


def _url(server, protocol: str) -> str:
    return server.grpc_url if protocol == "grpc" else server.url


@pytest.mark.parametrize("protocol", ["http", "grpc"])
@pytest.mark.parametrize("concurrency", [1, 2])
def test_runs_report_throughput_and_the_server_counts_every_request(
    executable, server, tmp_path, protocol, concurrency
):
    before = _answered(server, "mlp")
    args = pa.command(
        executable, _url(server, protocol), "mlp", protocol, str(concurrency), ["x:1,16"],
        ["--request-count=40"],
    )  # fmt: skip
    result = pa.run(args, tmp_path / "report.csv", timeout_s=120)
    assert result.returncode == 0, result.output
    [row] = result.rows
    assert row.concurrency == concurrency
    assert row.throughput > 0 and 0 < row.p50_us <= row.p99_us
    assert "Request count: 40" in result.output
    assert _answered(server, "mlp") - before == 40


def test_two_inputs_of_different_datatypes(executable, server, tmp_path):
    # perf_analyzer makes its data from the model's config: FP32 for "a", INT64 for "b".
    before = _answered(server, "two")
    args = pa.command(
        executable, server.url, "two", "http", "1", ["a:2,4", "b:2,4"], ["--request-count=20"]
    )
    result = pa.run(args, tmp_path / "report.csv", timeout_s=120)
    assert result.returncode == 0, result.output
    assert _answered(server, "two") - before == 20


def test_measurement_windows_over_a_concurrency_range(executable, server, tmp_path):
    # The way benchmarks run it: windows until stable (here any two windows are), C = 1 and 2.
    before = _answered(server, "mlp")
    args = pa.command(
        executable, server.grpc_url, "mlp", "grpc", "1:2", ["x:1,16"],
        ["--measurement-mode=count_windows", "--measurement-request-count=20",
         "--stability-percentage=1000", "--max-trials=3"],
    )  # fmt: skip
    result = pa.run(args, tmp_path / "report.csv", timeout_s=120)
    assert result.returncode == 0, result.output
    assert [row.concurrency for row in result.rows] == [1, 2]
    assert all(row.throughput > 0 for row in result.rows)
    reported = sum(int(n) for n in re.findall(r"Request count: (\d+)", result.output))
    assert reported >= 40 and _answered(server, "mlp") - before >= reported


def test_a_shape_the_model_refuses_fails_the_run_with_the_servers_reason(
    executable, server, tmp_path
):
    refused = _answered(server, "mlp", "400")
    args = pa.command(executable, server.url, "mlp", "http", "1", ["x:1,17"], ["--request-count=5"])
    result = pa.run(args, tmp_path / "report.csv", timeout_s=120)
    assert result.returncode != 0
    assert "input 'x' takes shape [-1, 16], not [1, 17]" in result.output
    assert _answered(server, "mlp", "400") > refused


def test_without_perf_analyzer_the_reason_names_the_installer(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    with pytest.raises(pa.PerfAnalyzerMissing) as info:
        pa.locate()
    assert "none in this environment or on PATH" in str(info.value)
    assert "python -m ovlite_serve.perf_analyzer_install" in str(info.value)


def test_a_perf_analyzer_that_cannot_start_is_reported_with_its_error(monkeypatch, tmp_path):
    wrapper = pa.installed_wrapper(str(tmp_path))
    wrapper.parent.mkdir()
    wrapper.write_text(
        "#!/bin/sh\necho 'error while loading shared libraries: libb64.so.0d' >&2\nexit 127\n"
    )
    wrapper.chmod(0o755)
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    with pytest.raises(pa.PerfAnalyzerMissing) as info:
        pa.locate()
    assert f"{wrapper} --version exits 127" in str(info.value)
    assert "libb64.so.0d" in str(info.value)


# -- the libb64 stand-in the installer compiles when apt-get cannot fetch libb64 ----------------


@pytest.fixture(scope="module")
def shim(tmp_path_factory):
    if libb64_shim.compiler() is None:
        pytest.skip("no C compiler (cc or gcc) on PATH to build the libb64 stand-in")
    return libb64_shim.build(tmp_path_factory.mktemp("libb64"))


class _EncodeState(ctypes.Structure):
    _fields_ = [("step", ctypes.c_int), ("carry", ctypes.c_char), ("groups", ctypes.c_int)]


class _DecodeState(ctypes.Structure):
    _fields_ = [("step", ctypes.c_int), ("carry", ctypes.c_char)]


@pytest.mark.parametrize("size", [0, 1, 2, 3, 53, 54, 55, 1000])
def test_libb64_stand_in_encodes_and_decodes_as_base64(shim, size):
    library = ctypes.CDLL(str(shim))
    data = np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8).tobytes()
    encoded = ctypes.create_string_buffer(2 * size + 8)
    state = _EncodeState()
    library.base64_init_encodestate(ctypes.byref(state))
    # In two pieces, as a caller feeding a stream would.
    n = library.base64_encode_block(data[:7], min(7, size), encoded, ctypes.byref(state))
    rest = data[7:]
    n += library.base64_encode_block(rest, len(rest), ctypes.byref(encoded, n), ctypes.byref(state))
    n += library.base64_encode_blockend(ctypes.byref(encoded, n), ctypes.byref(state))
    text = encoded.raw[:n]
    lines = text.split(b"\n")
    assert text.endswith(b"\n") and all(len(line) <= 72 for line in lines)
    assert b"".join(lines) == base64.b64encode(data)

    decoded = ctypes.create_string_buffer(size + 1)
    dstate = _DecodeState()
    library.base64_init_decodestate(ctypes.byref(dstate))
    m = library.base64_decode_block(text, len(text), decoded, ctypes.byref(dstate))
    assert decoded.raw[:m] == data


def test_perf_analyzer_runs_on_the_stand_in_with_base64_input_data(
    executable, shim, server, tmp_path
):
    binary = pa.installed_wrapper().parent.parent / "perf_analyzer" / "perf_analyzer"
    if not binary.exists():
        pytest.skip(f"no {binary}: perf_analyzer was not installed by perf_analyzer_install")
    # The stand-in's folder first: the loader takes libb64 from it, libcudart from the install.
    libraries = f"{shim.parent}:{binary.parent / 'lib'}"
    row = np.arange(16, dtype=np.float32).tobytes()
    data = {"data": [{"x": {"b64": base64.b64encode(row).decode(), "shape": [1, 16]}}]}
    (tmp_path / "data.json").write_text(json.dumps(data))
    before = _answered(server, "mlp")
    args = pa.command(
        str(binary), server.url, "mlp", "http", "1", (),
        [f"--input-data={tmp_path / 'data.json'}", "--request-count=10"],
    )  # fmt: skip
    done = subprocess.run(
        args, capture_output=True, text=True, timeout=120,
        env={**os.environ, "LD_LIBRARY_PATH": libraries},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert _answered(server, "mlp") - before == 10
