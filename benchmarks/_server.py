"""What the HTTP benchmarks share: a free port, a ``diagioi`` server started and awaited, latency figures.

Imported by name (``from _server import …``): ``python benchmarks/bench_x.py`` puts this folder on sys.path.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stats(samples_s: list[float]) -> str:
    """Median, p95 and max of latencies given in seconds, in ms."""
    ms = np.asarray(samples_s) * 1000.0
    return f"median {np.median(ms):.1f} ms, p95 {np.percentile(ms, 95):.1f} ms, max {ms.max():.1f} ms (n={len(ms)})"


def start_server(command: list[str], port: int, *, env: dict[str, str] | None = None, timeout_s: float = 120.0,
                 log=None) -> subprocess.Popen:
    """Start ``command`` (a server listening on ``port``) from the checkout; return once /api/health answers 200.

    The child gets ``PYTHONPATH`` = the checkout and ``env`` over this process's environment; its output goes to
    ``log`` (an open file) or nowhere. Raises RuntimeError when it exits or does not answer within ``timeout_s``.
    """
    environment = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    output = log if log is not None else subprocess.DEVNULL
    process = subprocess.Popen(command, cwd=REPO, env=environment, stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise RuntimeError("the server exited during start-up")
        time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"the server did not start within {timeout_s:.0f} s")


def python_command(code: str) -> list[str]:
    """``python -c CODE`` with this interpreter."""
    return [sys.executable, "-c", code]
