"""examples/serve_client.py runs against a server it starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_serve_client_example():
    result = subprocess.run(
        [sys.executable, "examples/serve_client.py", "-n", "16"],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert "JSON tensors: y [4, 8], same as in-process: True" in result.stdout
    assert "binary tensors: y [4, 8], same as in-process: True" in result.stdout
    assert "16 of 16 concurrent requests answered" in result.stdout
    assert (
        'ovlite_serve_requests_total{device="CPU",model="mlp",status="200"} 18.0' in result.stdout
    )
