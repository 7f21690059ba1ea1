"""A real ``diagioi`` server in a child process on a free port, for tests that need one (the browser, several
workers or machines on one store, the installed wheel, uvicorn's access log)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Server:
    url: str   # http://127.0.0.1:P/
    pid: int   # the server process (with --workers N, its workers are its children)

    def worker_pids(self) -> list[int]:
        """The live worker processes of the server (children started by multiprocessing's spawn; Linux /proc)."""
        workers = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                command = (stat.parent / "cmdline").read_bytes()
            except OSError:
                continue
            # fields[0]: state (Z for a dead child not reaped yet), fields[1]: parent pid
            if int(fields[1]) == self.pid and fields[0] != "Z" and b"spawn_main" in command:
                workers.append(int(stat.parent.name))
        return sorted(workers)


@contextmanager
def running_server(command: Callable[[int], list[str]], *, log_path: Path, cwd: Path = REPO,
                   env: Mapping[str, str | None] | None = None, start_timeout_s: float = 120.0) -> Iterator[Server]:
    """Run ``command(port)`` until the block ends; yields the :class:`Server` (``server.url``: ``http://127.0.0.1:P/``).

    ``env`` is laid over this process's environment (a ``None`` value removes the variable). A server that
    does not answer ``/api/health`` in time fails the test with the end of its log. The process group is
    stopped with SIGTERM (SIGKILL after 15 s), so uvicorn's workers stop with it.
    """
    port = free_port()
    environment = {**os.environ, **(env or {})}
    environment = {name: value for name, value in environment.items() if value is not None}
    with open(log_path, "w") as log:
        process = subprocess.Popen(command(port), cwd=cwd, env=environment, stdout=log, stderr=subprocess.STDOUT,
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
                pytest.fail(f"the server did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.3)
        yield Server(base, process.pid)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=15)


def serving(*arguments: str, log_path: Path, env: Mapping[str, str | None] | None = None,
            start_timeout_s: float = 120.0):
    """``diagioi serve ARGUMENTS --port P`` from this checkout, as a context manager yielding the :class:`Server`::

        with serving("--data-dir", str(data_dir), log_path=data_dir / "server.log",
                     env={"DIAGIOI_TOKEN": TOKEN}) as server:
            httpx.get(server.url + "api/health")
    """
    def command(port: int) -> list[str]:
        return [sys.executable, "-c", "from diagioi.api.cli import main; main()", "serve", "--port", str(port),
                *arguments]

    return running_server(command, log_path=log_path, env={"PYTHONPATH": str(REPO), **(env or {})},
                          start_timeout_s=start_timeout_s)
