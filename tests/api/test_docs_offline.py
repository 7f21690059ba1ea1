"""The interactive API documentation at /docs works with no network: Swagger UI comes from web/vendor."""
import re
from pathlib import Path

from fastapi.testclient import TestClient

from diagioi.api.app import create_app
from diagioi.api.settings import Settings
from api_helpers import TOKEN

WEB_DIR = Path(__file__).resolve().parents[2] / "web"


def test_docs_page_loads_only_local_assets(tmp_path, grid_path):
    settings = Settings(data_dir=tmp_path / "data", units_path=grid_path, token=TOKEN, web_dir=WEB_DIR)
    with TestClient(create_app(settings)) as client:
        page = client.get("/docs")
        assert page.status_code == 200
        urls = re.findall(r"(?:src|href)=['\"]([^'\"]+)['\"]", page.text) + re.findall(r"url: ['\"]([^'\"]+)['\"]", page.text)
        assert urls, page.text[:500]
        assert all(u.startswith("/") for u in urls), urls
        bundle = client.get("/_docs-assets/swagger-ui-bundle.js")
        assert bundle.status_code == 200 and len(bundle.content) > 1_000_000
        assert client.get("/openapi.json").json()["info"]["title"] == "diagioi"
