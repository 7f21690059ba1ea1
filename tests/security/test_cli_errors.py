"""The command line never shows a traceback (issue 8, item 8): one `error:` and one `hint:` line and a
non-zero exit; `--strict` turns reported data problems into a failing exit code."""
from __future__ import annotations

import json
import subprocess
import sys

import geopandas as gpd
import pytest
from typer.testing import CliRunner

from diagioi.api.cli import app

runner = CliRunner()


def assert_one_error(result, *, code: int = 2, says: str, hint_says: str) -> None:
    output = result.output
    assert result.exit_code == code, output
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    hints = [line for line in output.splitlines() if line.startswith("hint:")]
    assert len(errors) == 1 and len(hints) == 1, output
    assert says in errors[0], errors[0]
    assert hint_says in hints[0], hints[0]


@pytest.fixture
def shapefile(tmp_path, grid_path):
    path = tmp_path / "xa.shp"
    gpd.read_file(grid_path).to_file(path, encoding="utf-8")
    return path


def test_a_shapefile_without_its_shx(shapefile):
    shapefile.with_suffix(".shx").unlink()
    result = runner.invoke(app, ["units", str(shapefile)])
    assert_one_error(result, says="no .shx file beside it", hint_says="xa.shx")


def test_an_output_path_that_cannot_be_written(grid_path, tmp_path):
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps({"name": "thử", "new_units": [
        {"name": "Xã Mới", "kind": "xa", "members": ["00001", "00002"]}]}), encoding="utf-8")
    result = runner.invoke(app, ["evaluate", str(scenario), "--units", str(grid_path), "--out", "/proc/nope/x.csv",
                                 "--lang", "en"])
    assert_one_error(result, says="cannot write /proc/nope/x.csv", hint_says="--out")


def test_the_installed_command_prints_no_traceback_either(grid_path, tmp_path):
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps({"name": "thử", "new_units": []}), encoding="utf-8")
    completed = subprocess.run([sys.executable, "-m", "diagioi.api.cli", "evaluate", str(scenario),
                                "--units", str(grid_path), "--out", "/proc/nope/x.csv", "--lang", "en"],
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr + completed.stdout
    assert "error: cannot write /proc/nope/x.csv" in completed.stderr


def test_a_text_column_given_as_population(grid_path):
    result = runner.invoke(app, ["units", str(grid_path), "--population-field", "name"])
    assert_one_error(result, says="cột 'name' (cho dân số) chứa chữ, không phải số", hint_says="--population-field")
    english = runner.invoke(app, ["units", str(grid_path), "--population-field", "name", "--lang", "en"])
    assert_one_error(english, says="column 'name' (for population) holds text, not numbers",
                     hint_says="--population-field")


def test_a_geopackage_with_two_layers_names_them(grid_path, tmp_path):
    path = tmp_path / "two.gpkg"
    frame = gpd.read_file(grid_path)
    frame.to_file(path, layer="xa_2009", driver="GPKG")
    frame.to_file(path, layer="xa_2025", driver="GPKG")
    result = runner.invoke(app, ["units", str(path)])
    assert_one_error(result, says="2 lớp (xa_2009, xa_2025)", hint_says="--layer xa_2009")
    english = runner.invoke(app, ["units", str(path), "--lang", "en"])
    assert_one_error(english, says="2 layers (xa_2009, xa_2025)", hint_says="--layer xa_2009")
    chosen = runner.invoke(app, ["units", str(path), "--layer", "xa_2025", "--json"])
    assert chosen.exit_code == 0, chosen.output
    assert len(json.loads(chosen.stdout)["units"]) == 9


@pytest.fixture
def duplicate_codes(tmp_path, grid_path):
    frame = gpd.read_file(grid_path)
    frame.loc[1, "code"] = frame.loc[0, "code"]
    path = tmp_path / "dup.geojson"
    frame.to_file(path, driver="GeoJSON")
    return path


def test_strict_fails_on_reported_data_problems(duplicate_codes):
    relaxed = runner.invoke(app, ["units", str(duplicate_codes), "--json"])
    assert relaxed.exit_code == 0
    assert any(i["problem"] == "duplicate unit code" for i in json.loads(relaxed.stdout)["issues"])
    strict = runner.invoke(app, ["units", str(duplicate_codes), "--json", "--strict", "--lang", "en"])
    assert strict.exit_code == 1
    assert json.loads(strict.stdout)["units"]  # the output is still written
    assert "duplicate unit code" in strict.stderr and "--strict" in strict.stderr


def test_strict_evaluate_fails_on_missing_population(tmp_path, grid_path):
    frame = gpd.read_file(grid_path)
    frame.loc[2, "population"] = None
    units = tmp_path / "units.geojson"
    frame.to_file(units, driver="GeoJSON")
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps({"name": "thử", "new_units": [
        {"name": "Xã Mới", "kind": "xa", "members": ["00001", "00002"]}]}), encoding="utf-8")
    assert runner.invoke(app, ["evaluate", str(scenario), "--units", str(units), "--json"]).exit_code == 0
    strict = runner.invoke(app, ["evaluate", str(scenario), "--units", str(units), "--json", "--strict", "--lang", "en"])
    assert strict.exit_code == 1
    assert "missing population" in strict.stderr
