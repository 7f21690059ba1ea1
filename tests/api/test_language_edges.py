"""The reader's language at the edges: API (?lang= or Accept-Language, Vietnamese by default) and CLI --lang."""
import json

import pytest
from api_helpers import AUTH, scenario_body
from typer.testing import CliRunner

from diagioi.api.cli import app

runner = CliRunner()
NOT_CONTIGUOUS = [{"id": "n1", "name": "Xã Rời", "kind": "commune", "members": ["00001", "00003"]}]


@pytest.fixture()
def scenario_id(client) -> str:
    body = scenario_body(new_units=NOT_CONTIGUOUS)
    return client.post("/api/scenarios", json=body, headers=AUTH).json()["id"]


def test_evaluation_speaks_vietnamese_by_default_and_english_on_request(client, scenario_id):
    default = client.get(f"/api/scenarios/{scenario_id}/evaluation").json()
    by_header = client.get(f"/api/scenarios/{scenario_id}/evaluation",
                           headers={"Accept-Language": "en-GB,en;q=0.9"}).json()
    by_query = client.get(f"/api/scenarios/{scenario_id}/evaluation", params={"lang": "en"},
                          headers={"Accept-Language": "vi"}).json()

    assert default["warnings"][0] == "Xã Rời: không liền một dải — 2 phần rời: 00001 | 00003"
    assert by_header["warnings"][0] == by_query["warnings"][0] == "Xã Rời: not contiguous — 2 separate parts: 00001 | 00003"
    assert default["warning_messages"] == by_query["warning_messages"]  # the typed form does not depend on it
    citation = default["new_units"][0]["standards"][0]["citation"]
    assert citation.startswith("Nghị quyết 76/2025/UBTVQH15, Điều 5")
    assert by_query["new_units"][0]["standards"][0]["citation"].startswith("Res. 76/2025/UBTVQH15, Art. 5")


def test_an_unknown_language_is_a_4xx_that_says_what_to_use(client, scenario_id):
    response = client.get(f"/api/scenarios/{scenario_id}/evaluation", params={"lang": "fr"})
    assert 400 <= response.status_code < 500
    assert response.json()["hint"] == "dùng vi hoặc en"  # the language asked for is unknown: the default's
    english = client.get(f"/api/scenarios/{scenario_id}/evaluation", params={"lang": "fr"},
                         headers={"Accept-Language": "en"})
    assert english.json()["hint"] == "use vi or en" and english.json()["code"] == response.json()["code"]


def test_csv_export_follows_accept_language(client, scenario_id):
    english = client.get(f"/api/scenarios/{scenario_id}/export.csv", headers={"Accept-Language": "en"})
    vietnamese = client.get(f"/api/scenarios/{scenario_id}/export.csv")
    assert english.content.decode("utf-8-sig").startswith("No.,Administrative unit,Kind,")
    assert vietnamese.content.decode("utf-8-sig").startswith("STT,Tên đơn vị hành chính,Loại,")


def test_cli_prints_in_the_language_asked(grid_path, tmp_path):
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps({"name": "thử", "new_units": NOT_CONTIGUOUS}), encoding="utf-8")

    vietnamese = runner.invoke(app, ["evaluate", str(scenario), "--units", str(grid_path)])
    english = runner.invoke(app, ["evaluate", str(scenario), "--units", str(grid_path), "--lang", "en"])
    refused = runner.invoke(app, ["units", str(grid_path), "--lang", "fr"])

    assert vietnamese.exit_code == english.exit_code == 0, vietnamese.output
    assert "Trước: 2 đơn vị" in vietnamese.output and "không liền một dải" in vietnamese.output
    assert "Before: 2 units" in english.output and "not contiguous" in english.output
    assert refused.exit_code == 2 and "dùng --lang vi hoặc --lang en" in refused.output


def test_units_table_in_english(grid_path):
    result = runner.invoke(app, ["units", str(grid_path), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "Computed area (km²)" in result.output and "Commune" in result.output
