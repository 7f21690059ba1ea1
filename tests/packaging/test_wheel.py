"""A wheel installed in a fresh virtual environment serves the web app and exports the HTML map.

Guards issue 9's packaging defect: the wheel used to ship no ``web/`` (a placeholder page, "Leaflet is not
vendored") and to claim generic top-level names (``api``, ``geo``) in site-packages. The environment reuses this
interpreter's site-packages for the dependencies (``--system-site-packages``) and installs only the wheel, so the
test needs no network; everything runs from a folder outside the checkout.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import httpx
import pytest
from helpers.server import running_server

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(out), str(REPO)], check=True, capture_output=True, cwd=out)
    (built,) = out.glob("diagioi-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv holding the wheel; returns its ``bin`` folder."""
    env_dir = tmp_path_factory.mktemp("venv")
    venv.create(env_dir, system_site_packages=True, with_pip=False)
    python = env_dir / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
                    str(wheel)], check=True, capture_output=True)
    return env_dir / "bin"


def test_the_wheel_installs_under_the_diagioi_namespace_only(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top_level == {"diagioi"}
    for asset in ("diagioi/web/index.html", "diagioi/web/vendor/maplibre-gl/maplibre-gl.js",
                  "diagioi/web/vendor/leaflet/leaflet.js", "diagioi/web/i18n/vi.json", "diagioi/geo/rules/r76.yaml",
                  "diagioi/demo/__init__.py"):
        assert asset in names


def test_every_package_and_data_file_of_the_checkout_is_in_the_wheel(wheel):
    """pyproject.toml lists the packages by hand (package-dir maps them under ``diagioi``): a new sub-package or
    data file that is not listed would work in a checkout and be missing from an installed copy."""
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("geo", "layers", "api", "demo"):
        for path in (REPO / folder).rglob("*"):
            if "__pycache__" in path.parts or not path.is_file():
                continue
            if path.suffix in (".py", ".json", ".yaml", ".yml", ".csv"):
                assert f"diagioi/{path.relative_to(REPO).as_posix()}" in names, f"{path} is not in the wheel"


def test_the_installed_package_is_imported_from_the_venv(installed, tmp_path):
    code = "import diagioi.web, diagioi.geo; print(diagioi.web.web_dir()); print(diagioi.geo.__file__)"
    run = subprocess.run([str(installed / "python"), "-c", code], capture_output=True, text=True, cwd=tmp_path,
                         check=True)
    web_dir, geo_file = run.stdout.split()
    venv_root = installed.parent.resolve()
    assert Path(web_dir).resolve().is_relative_to(venv_root)
    assert Path(geo_file).resolve().is_relative_to(venv_root)
    assert (Path(web_dir) / "index.html").exists()


def test_the_installed_demo_writes_an_offline_html_map(installed, tmp_path):
    out = tmp_path / "demo-out"
    run = subprocess.run([str(installed / "diagioi"), "demo", "--out", str(out)], capture_output=True, text=True,
                         cwd=tmp_path, env={**os.environ, "HOME": str(tmp_path)})
    assert run.returncode == 0, run.stderr
    (html,) = out.glob("*.html")
    text = html.read_text(encoding="utf-8")
    assert "L.map(" in text or "leaflet" in text.lower()
    assert "https://unpkg.com" not in text and "cdn.jsdelivr.net" not in text


def test_the_installed_server_serves_the_web_app(installed, tmp_path):
    def command(port: int) -> list[str]:
        return [str(installed / "diagioi"), "serve", "--port", str(port), "--data-dir", str(tmp_path / "data")]

    with running_server(command, log_path=tmp_path / "server.log", cwd=tmp_path, env={"HOME": str(tmp_path)},
                        start_timeout_s=60) as server:
        base = server.url.rstrip("/")
        index = httpx.get(f"{base}/", timeout=10)
        assert index.status_code == 200
        assert "maplibre-gl.js" in index.text  # the real app, not the placeholder page
        assert httpx.get(f"{base}/vendor/maplibre-gl/maplibre-gl.js", timeout=10).status_code == 200
        assert json.loads(httpx.get(f"{base}/api/health", timeout=10).text)
