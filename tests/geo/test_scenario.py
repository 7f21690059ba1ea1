"""Scenarios are hand-writable JSON/YAML that round-trip exactly and refuse inconsistencies."""
import json

import pytest

from diagioi.geo.errors import InputError, ScenarioError
from diagioi.geo.kinds import UnitKind
from diagioi.geo.scenario import Scenario

MINIMAL = {"name": "Gộp thử", "new_units": [{"name": "Phường A", "kind": "ward", "members": ["01840", "01834"]}]}


def test_minimal_json_shape_is_accepted_with_defaults():
    scenario = Scenario.from_dict(MINIMAL)
    [unit] = scenario.new_units
    assert (unit.id, unit.name, unit.kind, unit.members) == ("n1", "Phường A", UnitKind.ward, ("01840", "01834"))
    assert scenario.regime == "R76"
    assert scenario.assignment() == {"01840": "n1", "01834": "n1"}


@pytest.mark.parametrize("alias,kind", [("phuong", "ward"), ("xa", "commune"), ("thi_tran", "township"),
                                        ("dac_khu", "special_zone"), ("Phường", "ward"), ("commune", "commune")])
def test_vietnamese_kind_aliases(alias, kind):
    data = {"name": "s", "new_units": [{"name": "u", "kind": alias, "members": []}]}
    assert Scenario.from_dict(data).new_units[0].kind.value == kind


def test_canonical_file_round_trips_byte_for_byte(tmp_path):
    data = {
        "name": "Bắc Kạn 2025", "description": "sáp nhập", "regime": "R1211",
        "parent": {"name": "Thành phố Bắc Kạn", "kind": "provincial_city", "mountainous": True},
        "context": {"mountainous": True},
        "new_units": [
            {"id": "dx", "name": "Phường Đức Xuân", "kind": "ward", "members": ["01840", "01834"], "locked": True},
            {"id": "pq", "name": "Xã Phong Quang", "kind": "commune", "members": ["01849"], "border": False},
        ],
    }
    for suffix in (".json", ".yaml"):
        path = tmp_path / f"s{suffix}"
        Scenario.from_dict(data).write(path)
        first = path.read_bytes()
        again = Scenario.read(path)
        assert again == Scenario.from_dict(data)
        assert again.to_dict() == data
        again.write(path)
        assert path.read_bytes() == first


def test_unit_in_two_new_units_is_refused():
    data = {"name": "s", "new_units": [{"name": "a", "members": [1]}, {"name": "b", "members": ["00001"]}]}
    with pytest.raises(ScenarioError, match="unit 00001 is a member of both 'n1' and 'n2'"):
        Scenario.from_dict(data)


@pytest.mark.parametrize("data,message", [
    ([], "a scenario is a JSON object"),
    ({"new_units": []}, 'needs a non-empty "name"'),
    ({"name": "s", "new_units": {}}, '"new_units" must be a list'),
    ({"name": "s", "new_units": [{"members": []}]}, 'new unit #1 needs a "name"'),
    ({"name": "s", "new_units": [{"name": "a", "kind": "quan"}]}, "unknown unit kind 'quan'"),
    ({"name": "s", "new_units": [{"name": "a", "members": [None]}]}, "is not a unit code"),
    ({"name": "s", "colour": "red", "new_units": []}, "unknown key"),
])
def test_bad_scenarios_say_what_to_fix(data, message):
    with pytest.raises(InputError, match=message):
        Scenario.from_dict(data)


def test_malformed_file_names_line(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"name": "x",\n "new_units": [,]}', encoding="utf-8")
    with pytest.raises(InputError, match="line 2"):
        Scenario.read(path)


def test_reassign_moves_units_and_reports_touched_new_units():
    scenario = Scenario.from_dict({"name": "s", "new_units": [
        {"name": "a", "members": ["00001", "00002"]}, {"name": "b", "members": ["00003"]},
        {"name": "c", "members": ["00004"]}]})
    moved, touched = scenario.with_assignments({"00002": "n2", "00004": None})
    assert touched == {"n1", "n2", "n3"}
    assert moved.assignment() == {"00001": "n1", "00002": "n2", "00003": "n2"}
    with pytest.raises(ScenarioError, match="no new unit 'n9'"):
        scenario.with_assignments({"00001": "n9"})


def test_locked_new_units_do_not_change():
    scenario = Scenario.from_dict({"name": "s", "new_units": [
        {"name": "a", "members": ["00001"], "locked": True}, {"name": "b", "members": ["00002"]}]})
    with pytest.raises(ScenarioError, match="'n1' is locked"):
        scenario.with_assignments({"00001": "n2"})


def test_drawn_boundary_must_be_a_valid_polygon():
    bowtie = {"type": "Polygon", "coordinates": [[[105, 21], [105.1, 21.1], [105.1, 21], [105, 21.1], [105, 21]]]}
    with pytest.raises(InputError, match="Self-intersection"):
        Scenario.from_dict({"name": "s", "new_units": [{"name": "d", "geometry": bowtie}]})
    square = {"type": "Polygon", "coordinates": [[[105, 21], [105.1, 21], [105.1, 21.1], [105, 21.1], [105, 21]]]}
    unit = Scenario.from_dict({"name": "s", "new_units": [{"name": "d", "geometry": square}]}).new_units[0]
    assert unit.is_drawn and unit.shape().bounds == (105, 21, 105.1, 21.1)
    assert json.loads(json.dumps(unit.to_dict()))["geometry"] == square
