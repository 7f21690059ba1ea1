"""The browser app (HTML, JS, CSS, vendored MapLibre/Leaflet/Swagger UI), shipped as package data.

Installed as ``diagioi.web`` so that a wheel serves the same files as a checkout.
"""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def web_dir() -> Path:
    """The folder holding ``index.html`` and ``vendor/``, wherever the package is installed."""
    return Path(str(files(__name__)))
