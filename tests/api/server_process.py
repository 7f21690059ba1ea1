"""Run ``diagioi serve`` in a child process on a free port (for tests that need real processes:
several workers or machines on one store, the browser on PostGIS)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(*arguments: str, log_path: Path, env: dict[str, str] | None = None,
            start_timeout_s: float = 120.0) -> Iterator[str]:
    """``diagioi serve ARGUMENTS --port P`` until the block ends; yields its base URL (``http://127.0.0.1:P/``).

    The process is stopped with SIGTERM (SIGKILL after 15 s); a server that does not answer
    ``/api/health`` fails the test with the end of its log.
    """
    import pytest

    port = free_port()
    command = [sys.executable, "-c", "from diagioi.api.cli import main; main()", "serve", "--port", str(port),
               *arguments]
    environment = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=REPO, env=environment, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + start_timeout_s
        while True:
            try:
                if httpx.get(base + "api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"diagioi serve did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.3)
        yield base
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # the server and its uvicorn workers
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=15)
