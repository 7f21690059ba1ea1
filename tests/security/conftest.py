"""Fixtures of the attack tests: a served app on a temporary store, and a local listener that
records whether anything tried to reach it (a stand-in for an attacker's server)."""
from __future__ import annotations

import socket
import threading

import pytest
from fastapi.testclient import TestClient

from diagioi.api.app import create_app
from diagioi.api.settings import Settings

from security_helpers import TOKEN


@pytest.fixture
def settings(tmp_path, grid_path) -> Settings:
    return Settings(data_dir=tmp_path / "data", units_path=grid_path, token=TOKEN,
                    web_dir=tmp_path / "no-web", max_upload_bytes=2_000_000, max_polygon_area_km2=50.0)


@pytest.fixture
def client(settings) -> TestClient:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


class Listener:
    """A TCP server on 127.0.0.1 that counts connections (and answers nothing useful)."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.socket.accept()
            except OSError:
                continue
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.socket.close()


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.close()
