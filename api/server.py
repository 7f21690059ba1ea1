"""Start the HTTP service (called by ``diagioi serve``)."""
from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from .app import create_app
from .settings import Settings


def run_server(host: str, port: int, data_dir: str | Path | None, units_path: str | Path | None,
               token: str | None, reload: bool = False, store: str | None = None, workers: int = 1) -> None:
    """Serve the API and the web app on ``host:port`` until interrupted.

    ``data_dir``/``units_path``/``token``/``store`` override ``DIAGIOI_*`` environment variables when
    given. Without a token one is generated; it is printed at start-up, as writes need it.
    ``workers`` > 1 starts that many processes on the same store (each builds its own caches,
    keyed by the store's versions, so an edit acknowledged by one is seen by the others).
    """
    overrides: dict[str, object] = {}
    if store:
        overrides["store"] = store
    if data_dir is not None:
        overrides["data_dir"] = Path(data_dir)
    if units_path is not None:
        overrides["units_path"] = Path(units_path)
    if token:
        overrides["token"] = token
    settings = Settings(**overrides)

    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"
    if workers > 1:
        # Every worker builds the app from the environment: one token and one store for all. The
        # store (schema, units dataset) is prepared once here, so workers do not race to import.
        if not settings.token:
            settings = settings.model_copy(update={"token": secrets.token_urlsafe(24)})
        service = create_app(settings).state.service
        _export_settings(settings.model_copy(update={"units_path": None}))
        _announce(url, settings, units=len(service.units), sample=service.sample_data)
        uvicorn.run("diagioi.api.server:app_from_environment", factory=True, host=host, port=port,
                    workers=workers, proxy_headers=True)
        return
    if reload:
        # The reloader imports the app in a fresh process: hand the settings over through the environment
        # (with a fixed token, so reloads keep it).
        if not settings.token:
            settings = settings.model_copy(update={"token": secrets.token_urlsafe(24)})
        _export_settings(settings)
        _announce(url, settings)
        uvicorn.run("diagioi.api.server:app_from_environment", factory=True, host=host, port=port, reload=True,
                    reload_dirs=[str(Path(__file__).resolve().parents[1])])
        return
    app = create_app(settings)
    service = app.state.service
    _announce(url, settings.model_copy(update={"token": service.token}), units=len(service.units),
              sample=service.sample_data)
    uvicorn.run(app, host=host, port=port, proxy_headers=True)


def _export_settings(settings: Settings) -> None:
    """Hand the settings to worker/reloader processes through ``DIAGIOI_*`` environment variables."""
    for name, value in settings.model_dump().items():
        variable = f"DIAGIOI_{name.upper()}"
        if value is not None:
            os.environ[variable] = str(value)
        else:
            os.environ.pop(variable, None)


def app_from_environment() -> FastAPI:
    """App factory for ``uvicorn --factory api.server:app_from_environment`` (settings from DIAGIOI_*)."""
    return create_app(Settings())


def _shown_store(settings: Settings) -> str:
    """The store for the start-up message, without a password."""
    import re

    if settings.store and "://" in settings.store:
        return re.sub(r"//([^:@/]*):[^@/]*@", r"//\1:***@", settings.store)
    return f"sqlite in {Path(settings.data_dir).resolve()}"


def _announce(url: str, settings: Settings, *, units: int | None = None, sample: bool = False) -> None:
    lines = [f"diagioi is serving {url}",
             f"  store:          {_shown_store(settings)}"]
    if units is not None:
        lines.append(f"  units: {units}" + (" (sample data — pass --units FILE for real boundaries)" if sample else ""))
    lines.append(f"  write token:    {settings.token}")
    lines.append("  (writes need the header 'Authorization: Bearer <token>'; API docs at /docs)")
    print("\n".join(lines), file=sys.stdout, flush=True)
