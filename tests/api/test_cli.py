"""The command line as a script uses it: stable JSON forms, exports, one-line errors with exit code 2."""
import json

import openpyxl
import pytest
from typer.testing import CliRunner

from diagioi.api.cli import app

runner = CliRunner()


def test_units_json_has_the_stable_keys(grid_path):
    result = runner.invoke(app, ["units", str(grid_path), "--json"])
    assert result.exit_code == 0, result.output
    units = json.loads(result.stdout)["units"]
    assert len(units) == 9
    first = units[0]
    assert {"code", "name", "kind", "area_km2", "official_area_km2", "population", "density"} <= set(first)
    assert (first["code"], first["kind"], first["population"]) == ("00001", "commune", 1000)
    assert first["official_area_km2"] == 1.0
    assert first["area_km2"] == pytest.approx(1.0002, abs=5e-4)


def test_units_json_says_where_the_area_comes_from_in_the_readers_language(grid_path):
    vietnamese = json.loads(runner.invoke(app, ["units", str(grid_path), "--json"]).stdout)
    english = json.loads(runner.invoke(app, ["units", str(grid_path), "--json", "--lang", "en"]).stdout)
    assert vietnamese["area_source"].startswith("tính toán: diện tích trắc địa")
    assert english["area_source"].startswith("computed: geodesic area")


def test_units_plane_area_is_in_the_tm3_plane(grid_path):
    result = runner.invoke(app, ["units", str(grid_path), "--json", "--plane-area"])
    record = json.loads(result.stdout)["units"][4]
    assert record["plane_area_km2"] == pytest.approx(1.0, abs=2e-3)


def test_evaluate_json_and_xlsx_agree(grid_path, tmp_path):
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps({"name": "thử", "new_units": [
        {"name": "Phường Mới", "kind": "phuong", "members": ["00004", "00005"]}]}), encoding="utf-8")
    xlsx = tmp_path / "annex.xlsx"
    result = runner.invoke(app, ["evaluate", str(scenario), "--units", str(grid_path), "--json", "--out", str(xlsx)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    [unit] = data["new_units"]
    assert {"name", "kind", "members", "area_km2", "official_area_km2", "population", "density", "contiguous",
            "standards"} <= set(unit)
    assert (unit["kind"], unit["members"], unit["population"], unit["official_area_km2"]) == (
        "ward", ["00004", "00005"], 9000, 2.0)
    assert {"rule", "passed", "value", "threshold", "percent_of_standard", "citation"} <= set(unit["standards"][0])
    assert data["totals"]["units_after"] == 1
    cells = [c for row in openpyxl.load_workbook(xlsx).worksheets[0].iter_rows(values_only=True) for c in row]
    assert "Phường Mới" in cells and 9000 in cells


def test_unknown_output_format_fails_before_any_work(grid_path, tmp_path):
    scenario = tmp_path / "s.json"
    scenario.write_text('{"name": "x", "new_units": []}', encoding="utf-8")
    result = runner.invoke(app, ["evaluate", str(scenario), "--units", str(grid_path), "--out", "t.docx", "--lang", "en"])
    assert result.exit_code == 2
    assert "unknown output format '.docx'" in result.output


def test_missing_crs_is_one_clear_line(tmp_path):
    from helpers.grid import grid_frame

    path = tmp_path / "noprj.shp"
    grid_frame()[["code", "name", "population", "geometry"]].to_file(path)
    path.with_suffix(".prj").unlink()
    result = runner.invoke(app, ["units", str(path)])
    assert result.exit_code == 2
    assert "noprj.shp không có hệ toạ độ" in result.output
    assert "--crs" in result.output
    assert "Traceback" not in result.output


def test_rules_lists_the_regimes():
    result = runner.invoke(app, ["rules"])
    ids = [r["id"] for r in json.loads(result.stdout)]
    assert ids[0] == "R76" and {"R1211", "R112", "R35"} <= set(ids)
