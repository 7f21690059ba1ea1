"""Start the HTTP service (called by ``diagioi serve``)."""
from __future__ import annotations

import os
import re
import socket
import sys
import webbrowser
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from diagioi.geo.errors import DiagioiError
from diagioi.geo.i18n import translate

from .app import create_app
from .auth import load_or_create_token
from .settings import Settings


def run_server(host: str, port: int, data_dir: str | Path | None, units_path: str | Path | None,
               token: str | None, reload: bool = False, *, allowed_hosts: Sequence[str] = (),
               public_url: str | None = None, proxy: Sequence[str] = (), open_browser: bool = False,
               store: str | None = None, workers: int = 1, lang: str = "vi") -> None:
    """Serve the API and the web app on ``host:port`` until interrupted.

    ``data_dir``/``units_path``/``token``/``allowed_hosts``/``public_url``/``proxy`` override the
    ``DIAGIOI_*`` environment variables when given (host names and proxies add to them). The write
    token is ``token``, else DIAGIOI_TOKEN, else the one kept in ``<data dir>/token``; the login URL
    that carries it is printed (and opened in a browser with ``open_browser``). ``store`` names the
    store (``DIAGIOI_STORE``); ``workers`` > 1 starts that many processes on it (each keeps its own
    caches, keyed by the versions it reads from the store, so an edit acknowledged by one worker is
    served by the others on their next request). The start-up lines are printed in ``lang``.
    """
    settings = serve_settings(host, data_dir=data_dir, units_path=units_path, token=token,
                              allowed_hosts=allowed_hosts, public_url=public_url, proxy=proxy, store=store)
    local = "127.0.0.1" if host in _WILDCARDS else (f"[{host}]" if ":" in host else host)
    url = f"http://{local}:{port}/"
    uvicorn_options = connection_options(settings)
    if workers > 1:
        # The store (schema, units dataset, token) is prepared once here, so workers do not race to
        # import; each worker then builds the app from the environment, on the store's default units.
        service = create_app(settings).state.service
        pool_size = settings.db_pool_size or _default_pool_size(workers)
        _export_settings(settings.model_copy(update={"units_path": None, "db_pool_size": pool_size}))
        _announce(url, settings, service.token, units=len(service.units), sample=service.sample_data,
                  open_browser=open_browser, lang=lang)
        _close_pools()  # the workers open their own connections
        uvicorn.run("diagioi.api.server:app_from_environment", factory=True, host=host, port=port,
                    workers=workers, **uvicorn_options)
        return
    if reload:
        # The reloader imports the app in a fresh process: hand the settings over through the
        # environment (without a given token, the child reads the same <data dir>/token file).
        _export_settings(settings)
        _announce(url, settings, settings.token or load_or_create_token(settings.data_dir)[0],
                  open_browser=open_browser, lang=lang)
        uvicorn.run("diagioi.api.server:app_from_environment", factory=True, host=host, port=port, reload=True,
                    reload_dirs=[str(Path(__file__).resolve().parents[1])], **uvicorn_options)
        return
    app = create_app(settings)
    service = app.state.service
    _announce(url, settings, service.token, units=len(service.units), sample=service.sample_data,
              open_browser=open_browser, lang=lang)
    uvicorn.run(app, host=host, port=port, **uvicorn_options)


_WILDCARDS = ("0.0.0.0", "::", "")


def _default_pool_size(workers: int) -> int:
    from .store.postgis import default_pool_size

    return default_pool_size(workers)


def _close_pools() -> None:
    module = sys.modules.get("diagioi.api.store.postgis")
    if module is not None:  # only when a PostGIS store was opened
        module.close_pools()


def serve_settings(host: str, *, data_dir: str | Path | None = None, units_path: str | Path | None = None,
                   token: str | None = None, allowed_hosts: Sequence[str] = (), public_url: str | None = None,
                   proxy: Sequence[str] = (), store: str | None = None) -> Settings:
    """DIAGIOI_* settings with the command-line options applied; the interface listened on is an
    accepted host name unless it is a wildcard address. A bad value is a DiagioiError with a hint."""
    overrides: dict[str, object] = {}
    if store:
        overrides["store"] = store
    if data_dir is not None:
        overrides["data_dir"] = Path(data_dir)
    if units_path is not None:
        overrides["units_path"] = Path(units_path)
    if token:
        overrides["token"] = token
    if public_url:
        overrides["public_url"] = public_url
    try:
        settings = Settings(**overrides)
        listen_name = [] if host in _WILDCARDS else [host]
        return Settings.model_validate({
            **settings.model_dump(),
            "allowed_hosts": _unique([*settings.allowed_hosts, *listen_name, *allowed_hosts]),
            "proxy": _unique([*settings.proxy, *proxy])})
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, item['loc'])) or 'settings'}: {item['msg']}"
                             for item in error.errors())
        raise DiagioiError(f"invalid server setting: {problems}",
                           hint="check the options of 'diagioi serve' and the DIAGIOI_* environment variables "
                                "(lists such as DIAGIOI_ALLOWED_HOSTS are comma-separated)") from None


def connection_options(settings: Settings) -> dict[str, object]:
    """uvicorn options for connections. Client addresses: X-Forwarded-For/-Proto are believed only from the
    configured proxies (``--proxy``); without one they are ignored, so a client cannot write
    someone else's address into the access log. Connections use :class:`NoDelayHTTPProtocol`."""
    options: dict[str, object] = {"http": NoDelayHTTPProtocol}
    if not settings.proxy:
        return {**options, "proxy_headers": False}
    return {**options, "proxy_headers": True, "forwarded_allow_ips": list(settings.proxy)}


class NoDelayHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
    """uvicorn's HTTP protocol with Nagle's algorithm off on every TCP connection.

    With ``--workers N`` uvicorn binds the listening socket itself with ``proto`` 0, and asyncio then
    leaves TCP_NODELAY off on the accepted connections (uvicorn issue #3149): a response written in
    two parts waits for the client's delayed ACK, about 40 ms on Linux, on every request.
    """

    def connection_made(self, transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


def login_url(url: str, token: str) -> str:
    """The URL that logs a browser in: the token travels in the fragment, which browsers never
    send to a server (so it is in no request line, access log, proxy log or Referer header)."""
    return f"{url}#token={quote(token, safe='')}"


def _unique(items) -> list[str]:
    return list(dict.fromkeys(item for item in items if item))


def _export_settings(settings: Settings) -> None:
    """Hand the settings to worker/reloader processes through ``DIAGIOI_*`` environment variables
    (without a given token, the children read the same <data dir>/token file)."""
    for name, value in settings.model_dump(exclude={"token"}).items():
        if value is not None:
            os.environ[f"DIAGIOI_{name.upper()}"] = ",".join(value) if isinstance(value, list) else str(value)
        else:
            os.environ.pop(f"DIAGIOI_{name.upper()}", None)
    if settings.token:
        os.environ["DIAGIOI_TOKEN"] = settings.token


def app_from_environment() -> FastAPI:
    """App factory for ``uvicorn --factory api.server:app_from_environment`` (settings from DIAGIOI_*)."""
    return create_app(Settings())


def _shown_store(settings: Settings, lang: str = "vi") -> str:
    """The store for the start-up message, without a password."""
    if settings.store and "://" in settings.store:
        return re.sub(r"//([^:@/]*):[^@/]*@", r"//\1:***@", settings.store)
    return translate("serve.sqlite_in", lang, path=str(Path(settings.data_dir).resolve()))


def _announce(url: str, settings: Settings, token: str, *, units: int | None = None, sample: bool = False,
              open_browser: bool = False, lang: str = "vi") -> None:
    login = login_url(url, token)

    def t(key: str, **params) -> str:
        return translate(f"serve.{key}", lang, **params)

    lines = [t("serving", url=url), t("store", store=_shown_store(settings, lang))]
    if units is not None:
        lines.append(t("units_sample" if sample else "units", n=str(units)))
    lines.append(t("token", token=token))
    lines.append(t("open_login"))
    lines.append(f"    {login}")
    lines.append(t("api_clients"))
    hosts = ", ".join(["127.0.0.1", "localhost", "[::1]", *settings.accepted_host_names])
    lines.append(t("hosts", hosts=hosts))
    print("\n".join(lines), file=sys.stdout, flush=True)
    if open_browser:
        webbrowser.open(login)
