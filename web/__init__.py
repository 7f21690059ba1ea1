"""The browser app (HTML, JS, CSS, vendored MapLibre/Leaflet/Swagger UI), shipped as package data.

Installed as ``diagioi.web`` so that a wheel serves the same files as a checkout.
"""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def web_dir() -> Path:
    """The folder holding ``index.html`` and ``vendor/``, wherever the package is installed."""
    return Path(str(files(__name__)))


def write_i18n() -> list[Path]:
    """Write ``i18n/<lang>.json`` from the one language catalogue (:mod:`diagioi.geo.i18n`)."""
    from diagioi.geo.i18n import LANGUAGES, web_copy_text

    written = []
    for lang in LANGUAGES:
        path = web_dir() / "i18n" / f"{lang}.json"
        path.write_text(web_copy_text(lang), encoding="utf-8")
        written.append(path)
    return written


def write_colours() -> Path:
    """Write ``colours.js`` from the one source of colours (:mod:`diagioi.layers.styles`)."""
    from diagioi.layers.styles import web_colours_js

    path = web_dir() / "colours.js"
    path.write_text(web_colours_js(), encoding="utf-8")
    return path

