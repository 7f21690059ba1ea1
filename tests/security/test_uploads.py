"""Uploads and units files cannot make the server read other files or reach the network (issue 8, item 1).

GDAL recognises an OGR VRT by its content whatever the file is called; a VRT names a
``<SrcDataSource>`` that GDAL then opens. Each attack below is sent as a layer upload, as the
``diagioi units`` file and as ``--units``; each must be refused with a hint, store nothing and
(for URLs) send no request.
"""
from __future__ import annotations

import io
import json
import sqlite3
import zipfile

import geopandas as gpd
import pytest
import shapely
from typer.testing import CliRunner

from diagioi.api.cli import app as cli
from diagioi.geo.errors import InputError
from diagioi.geo.io import read_units
from diagioi.geo.safe_open import VectorFormat, open_vector, sniff_format

from security_helpers import AUTH

runner = CliRunner()


def vrt(source: str) -> str:
    """An OGR VRT whose one layer reads ``source`` as points from columns x, y."""
    return f"""<OGRVRTDataSource>
  <OGRVRTLayer name="stolen">
    <SrcDataSource>{source}</SrcDataSource>
    <GeometryType>wkbPoint</GeometryType>
    <LayerSRS>EPSG:4326</LayerSRS>
    <GeometryField encoding="PointFromColumns" x="x" y="y"/>
  </OGRVRTLayer>
</OGRVRTDataSource>
"""


@pytest.fixture
def server_secret(tmp_path):
    """A CSV on the server that a VRT could turn into tourism sites (name, x, y)."""
    path = tmp_path / "secret.csv"
    path.write_text("name,x,y\nmật khẩu quản trị,105.76,21.61\n", encoding="utf-8")
    return path


def upload(client, filename: str, content: bytes, kind: str = "tourism_sites"):
    # The refusals are checked in English words (Vietnamese, the default, is checked in tests/api).
    return client.post(f"/api/layers/{kind}", files={"file": (filename, content)},
                       headers={**AUTH, "Accept-Language": "en"})


def assert_refused(response, *, not_in_body: str | None = None):
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["hint"], body
    if not_in_body:
        assert not_in_body not in response.text
    return body


@pytest.mark.parametrize("filename", ["x.json", "x.geojson", "x.gpkg"])
def test_a_vrt_reading_a_server_file_is_refused_whatever_its_name(client, server_secret, filename):
    response = upload(client, filename, vrt(f"CSV:{server_secret}").encode())
    body = assert_refused(response, not_in_body="mật khẩu")
    assert "VRT" in body["detail"] or "GeoPackage" in body["detail"]
    assert client.get("/api/layers/tourism_sites").json()["features"] == []


def test_a_vrt_reading_etc_passwd_is_refused(client):
    response = upload(client, "x.json", vrt("CSV:/etc/passwd").encode())
    assert_refused(response, not_in_body="root:")
    assert client.get("/api/layers/tourism_sites").json()["layer_version"] == 0


@pytest.mark.parametrize("filename", ["x.json", "x.gpkg"])
def test_a_vrt_pointing_at_a_url_sends_no_request(client, listener, filename):
    response = upload(client, filename, vrt(f"/vsicurl/{listener.url}/secret.csv").encode())
    assert_refused(response)
    assert listener.connections == 0
    assert client.get("/api/layers/tourism_sites").json()["features"] == []


def _geopackage(path, tmp_path):
    sites = gpd.GeoDataFrame({"name": ["Chùa Thạch Long"], "rank": ["provincial"]},
                             geometry=[shapely.Point(105.766, 21.619)], crs=4326)
    sites.to_file(path, layer="sites", driver="GPKG")
    return path


def _tamper(path, *statements: str, writable_schema: bool = False):
    connection = sqlite3.connect(path)
    if writable_schema:
        connection.execute("PRAGMA writable_schema=ON")
    for statement in statements:
        connection.execute(statement)
    connection.commit()
    connection.close()


def test_a_clean_geopackage_is_imported(client, tmp_path):
    path = _geopackage(tmp_path / "sites.gpkg", tmp_path)
    response = upload(client, "sites.gpkg", path.read_bytes())
    assert response.status_code == 201, response.text
    assert [f["properties"]["name"] for f in response.json()["created"]] == ["Chùa Thạch Long"]


@pytest.mark.parametrize("statements, writable_schema, named", [
    (["CREATE VIEW stolen AS SELECT * FROM sites"], False, "view 'stolen'"),
    (["CREATE TRIGGER evil AFTER INSERT ON sites BEGIN SELECT 1; END"], False, "trigger 'evil'"),
    (["INSERT INTO sqlite_master(type, name, tbl_name, rootpage, sql) VALUES ('table', 'passwd', 'passwd', 0, "
      "'CREATE VIRTUAL TABLE passwd USING VirtualOGR(''/etc/passwd'')')"], True, "virtual table 'passwd'"),
])
def test_a_geopackage_with_views_triggers_or_virtual_tables_is_refused(client, tmp_path, statements,
                                                                       writable_schema, named):
    path = _geopackage(tmp_path / "sites.gpkg", tmp_path)
    _tamper(path, *statements, writable_schema=writable_schema)
    body = assert_refused(upload(client, "sites.gpkg", path.read_bytes()))
    assert named in body["detail"]
    assert "new GeoPackage" in body["hint"]
    assert client.get("/api/layers/tourism_sites").json()["features"] == []


def test_an_sqlite_database_that_is_not_a_geopackage_is_refused(client, tmp_path):
    path = tmp_path / "plain.sqlite"
    _tamper(path, "CREATE TABLE t (x)")
    body = assert_refused(upload(client, "plain.gpkg", path.read_bytes()))
    assert "not a GeoPackage" in body["detail"]


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture
def shapefile_parts(tmp_path) -> dict[str, bytes]:
    sites = gpd.GeoDataFrame({"name": ["Đền Đuổm"], "rank": ["national"]},
                             geometry=[shapely.Point(105.85, 21.75)], crs=4326)
    sites.to_file(tmp_path / "sites.shp", encoding="utf-8")
    return {f"sites{s}": (tmp_path / f"sites{s}").read_bytes() for s in (".shp", ".shx", ".dbf", ".prj", ".cpg")}


def test_a_zipped_shapefile_is_imported(client, shapefile_parts):
    response = upload(client, "sites.zip", _zip(shapefile_parts))
    assert response.status_code == 201, response.text
    assert response.json()["created"][0]["properties"]["name"] == "Đền Đuổm"


@pytest.mark.parametrize("change, problem", [
    (lambda parts: {**parts, "other.shp": parts["sites.shp"], "other.shx": parts["sites.shx"],
                    "other.dbf": parts["sites.dbf"]}, "exactly one .shp"),
    (lambda parts: {**parts, "../escape.txt.vrt": b"<OGRVRTDataSource/>"}, "outside the archive"),
    (lambda parts: {**parts, "stolen.vrt": vrt("CSV:/etc/passwd").encode()}, "not part of a Shapefile"),
    (lambda parts: {k: v for k, v in parts.items() if not k.endswith(".shx")}, "no .shx"),
])
def test_a_zip_must_hold_exactly_one_plain_shapefile(client, shapefile_parts, change, problem):
    body = assert_refused(upload(client, "sites.zip", _zip(change(shapefile_parts))))
    assert problem in body["detail"]
    assert client.get("/api/layers/tourism_sites").json()["features"] == []


# --------------------------------------------------------------------------- the units file (CLI and --units)

@pytest.fixture
def vrt_units(tmp_path, server_secret):
    path = tmp_path / "units.json"
    path.write_text(vrt(f"CSV:{server_secret}"), encoding="utf-8")
    return path


def test_diagioi_units_refuses_a_vrt_named_json(vrt_units):
    result = runner.invoke(cli, ["units", str(vrt_units), "--json"])
    assert result.exit_code == 2
    assert "error:" in result.output and "hint:" in result.output
    assert "mật khẩu" not in result.output
    assert "Traceback" not in result.output


def test_evaluate_refuses_a_vrt_as_units(vrt_units, tmp_path):
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps({"name": "thử", "new_units": []}), encoding="utf-8")
    result = runner.invoke(cli, ["evaluate", str(scenario), "--units", str(vrt_units)])
    assert result.exit_code == 2 and "error:" in result.output


def test_the_server_refuses_a_vrt_as_units(tmp_path, vrt_units):
    from diagioi.api.app import create_app
    from diagioi.api.settings import Settings

    with pytest.raises(InputError, match="VRT"):
        create_app(Settings(data_dir=tmp_path / "data", units_path=vrt_units, web_dir=tmp_path / "no-web"))


@pytest.mark.parametrize("path_text", ["/vsicurl/http://127.0.0.1:9/units.geojson", "CSV:/etc/passwd",
                                       "http://127.0.0.1:9/units.geojson"])
def test_a_units_path_must_be_a_local_file(path_text):
    with pytest.raises(InputError) as caught:
        read_units(path_text)
    assert caught.value.hint


def test_the_bytes_decide_the_format_not_the_name(tmp_path, grid_path):
    disguised = tmp_path / "units.gpkg"
    disguised.write_bytes(grid_path.read_bytes())
    assert sniff_format(disguised) is VectorFormat.geojson
    with open_vector(disguised) as source:
        assert source.gdal_path.startswith("GeoJSON:")
    assert len(read_units(disguised)) == 9
