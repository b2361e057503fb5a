"""Run ``ovlite serve`` in a subprocess and wait until it is ready: for tests, benchmarks
and examples that need a real server on this machine."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

# uvicorn ends a graceful shutdown by raising the signal it caught again, so a server that
# stopped cleanly on SIGTERM exits with -SIGTERM.
GRACEFUL = (0, -signal.SIGTERM)


def free_ports(count: int) -> list[int]:
    """``count`` different ports free on 127.0.0.1 now (held together while chosen)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def free_port() -> int:
    return free_ports(1)[0]


class ServerProcess:
    """``ovlite serve ARGS`` in a subprocess on 127.0.0.1 and a free port; ``url`` is
    ``127.0.0.1:port`` as tritonclient wants it.  ``stop()`` sends SIGTERM and waits."""

    def __init__(self, args: Sequence[str], log: Path, ready_s: float = 60.0) -> None:
        self.port, self.grpc_port = free_ports(2)
        self.url = f"127.0.0.1:{self.port}"
        self.grpc_url = f"127.0.0.1:{self.grpc_port}"
        self.log = log
        command = [sys.executable, "-m", "ovlite_serve.cli", "--http-port", str(self.port)]
        command += ["--grpc-port", str(self.grpc_port)]
        self.process = subprocess.Popen(
            [*command, "--log-level", "warning", *args],
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        self._wait_ready(ready_s)

    def _wait_ready(self, ready_s: float) -> None:
        for _ in range(int(ready_s * 10)):
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"server exited {self.process.returncode}: {self.log.read_text()}"
                )
            try:
                with urllib.request.urlopen(f"http://{self.url}/v2/health/ready", timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server not ready in {ready_s} s: {self.log.read_text()}")

    def get(self, path: str) -> bytes:
        with urllib.request.urlopen(f"http://{self.url}{path}", timeout=10) as response:
            return response.read()

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return self.process.returncode
