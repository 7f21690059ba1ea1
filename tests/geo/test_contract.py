"""The published contract: JSON Schemas generated from the models, and outputs that validate against them."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from diagioi.api.cli import app
from diagioi.geo.contract import json_schemas, schema_texts
from diagioi.geo.contract.__main__ import main as write_schemas
from diagioi.demo import demo_dir
from diagioi.geo.evaluation import evaluate
from diagioi.geo.exports import evaluation_to_rows
from diagioi.geo.io import read_units
from diagioi.geo.kinds import Status
from diagioi.geo.scenario import Scenario
from diagioi.geo.standards import RuleSet

REPO = Path(__file__).resolve().parents[2]
CONTRACT = REPO / "docs" / "contract"
runner = CliRunner()


def validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((CONTRACT / name).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_published_schemas_are_the_ones_the_models_generate():
    assert sorted(p.name for p in CONTRACT.glob("*.schema.json")) == sorted(json_schemas())
    for name, text in schema_texts().items():
        assert (CONTRACT / name).read_text(encoding="utf-8") == text, f"{name} is stale: python -m diagioi.geo.contract"
    assert write_schemas(["--check", str(CONTRACT)]) == 0


def test_a_stale_schema_file_is_reported(tmp_path, capsys):
    assert write_schemas([str(tmp_path)]) == 0
    (tmp_path / "evaluation.schema.json").write_text("{}", encoding="utf-8")
    assert write_schemas(["--check", str(tmp_path)]) == 1
    assert "evaluation.schema.json" in capsys.readouterr().err


def test_scenario_files_in_the_repository_validate_against_the_scenario_schema(tmp_path):
    schema = validator("scenario.schema.json")
    demo = json.loads((demo_dir() / "scenario.json").read_text(encoding="utf-8"))
    schema.validate(demo)
    schema.validate(Scenario.from_dict(demo).to_dict())
    with pytest.raises(jsonschema.ValidationError, match="colour"):
        schema.validate({**demo, "colour": "red"})


def test_the_demo_evaluate_json_validates_against_the_evaluation_schema(tmp_path):
    folder = demo_dir()
    result = runner.invoke(app, ["evaluate", str(folder / "scenario.json"), "--units", str(folder / "units.geojson"),
                                 "--raster", str(folder / "population.tif"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    validator("evaluation.schema.json").validate(data)
    assert {unit["status"] for unit in data["new_units"]} <= set(Status)


@pytest.mark.real_data
def test_evaluate_json_of_the_real_layer_validates_against_the_evaluation_schema(shared_data, tmp_path):
    scenario = tmp_path / "bac-kan.json"
    scenario.write_text(json.dumps({
        "name": "Thành phố Bắc Kạn", "regime": "R1211",
        "parent": {"name": "Thành phố Bắc Kạn", "kind": "provincial_city"}, "context": {"mountainous": True},
        "new_units": [{"name": "Phường Đức Xuân", "kind": "ward", "members": ["01840", "01834"]},
                      {"name": "Phường Cẩm Giàng", "kind": "ward", "members": ["02008"]}]}), encoding="utf-8")
    result = runner.invoke(app, ["evaluate", str(scenario), "--units",
                                 str(shared_data / "pre2025_communes_census2009_bk_tn_bg_bn.geojson"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    validator("evaluation.schema.json").validate(data)
    assert data["totals"]["parent"]["name"] == "Thành phố Bắc Kạn"


def test_a_standard_without_its_figure_is_unknown_not_failed(grid_path, tmp_path):
    layer = json.loads(grid_path.read_text(encoding="utf-8"))
    for feature in layer["features"]:
        if feature["properties"]["code"] == "00002":
            feature["properties"]["population"] = None     # a member without population
    path = tmp_path / "grid.geojson"
    path.write_text(json.dumps(layer), encoding="utf-8")
    units = read_units(path)
    scenario = Scenario.from_dict({"name": "s", "new_units": [
        {"name": "Xã Nam", "kind": "commune", "members": ["00001", "00002"]}]})
    # (the area floor lowered to the grid's 2 km², so only the missing population decides)
    evaluation = evaluate(units, scenario, RuleSet.load("R76").with_overrides({"r76.commune.area_km2": 1.0}))
    report = evaluation.report()
    [unit] = report.new_units
    population = next(s for s in unit.standards if s.criterion == "population")
    assert (population.passed, population.status) == (None, Status.UNKNOWN)
    assert unit.status == Status.UNKNOWN
    # The annex says so in words: "Thiếu số liệu", never "Không đạt" for the missing figure.
    [row] = evaluation_to_rows(evaluation.to_json())
    assert row["Kết luận"] == "Thiếu số liệu"
    assert "Không đạt" not in row.values()
