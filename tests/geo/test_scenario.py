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
    ({"new_units": []}, 'scenario needs a "name"'),
    ({"name": "  ", "new_units": []}, 'needs a non-empty "name"'),
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


PLANNING_CASE = {
    "name": "Thành phố Bắc Kạn mở rộng", "description": "sáp nhập Cẩm Giàng", "regime": "R1211",
    "dataset": "units-3f9a1c",
    "parent": {"name": "Thành phố Bắc Kạn", "kind": "provincial_city",
               "scope": {"provinces": ["Bắc Kạn"], "districts": ["Thành phố Bắc Kạn"], "codes": ["01840"]}},
    "context": {"mountainous": True, "border": False, "ethnic_minority_share": 0.42},
    "unit_flags": {"01849": {"mountainous": True, "border": True}},
    "new_units": [
        {"id": "n1", "name": "Phường Cẩm Giàng", "kind": "ward", "members": ["01960"], "mountainous": True,
         "border": False, "island": False, "central_city": False, "red_river_delta": True, "coastal_poor": False,
         "ethnic_minority_share": 0.3, "note": "sáp nhập từ huyện Bạch Thông"},
        {"id": "n2", "name": "Khu mới", "kind": "ward", "members": [],
         "geometry": {"type": "Polygon", "coordinates": [[[105.8, 22.1], [105.9, 22.1], [105.9, 22.2], [105.8, 22.1]]]}},
    ],
}


def test_planning_fields_are_typed_and_round_trip_in_canonical_order(tmp_path):
    scenario = Scenario.from_dict(PLANNING_CASE)
    assert scenario.parent.scope.districts == ("Thành phố Bắc Kạn",)
    assert scenario.context.mountainous is True and scenario.context.island is None
    assert scenario.unit_flags["01849"].border is True
    assert scenario.new_units[0].red_river_delta is True and scenario.new_units[0].ethnic_minority_share == 0.3
    assert scenario.to_dict() == PLANNING_CASE
    assert list(scenario.to_dict()) == ["name", "description", "regime", "dataset", "parent", "context",
                                        "unit_flags", "new_units"]
    path = tmp_path / "case.json"
    scenario.write(path)
    first = path.read_bytes()
    Scenario.read(path).write(path)
    assert path.read_bytes() == first


def test_empty_optional_values_are_left_out_of_the_canonical_form():
    scenario = Scenario.from_dict({"name": "s", "dataset": None, "context": {}, "unit_flags": {"1840": {}},
                                   "parent": {"kind": "town", "scope": {}},
                                   "new_units": [{"name": "a", "note": "", "border": None}]})
    assert scenario.to_dict() == {"name": "s", "regime": "R76", "parent": {"name": "", "kind": "town"},
                                  "new_units": [{"id": "n1", "name": "a", "kind": "commune", "members": []}]}


def test_unit_codes_in_scope_and_unit_flags_keep_their_leading_zeros():
    scenario = Scenario.from_dict({"name": "s", "parent": {"kind": "town", "scope": {"codes": [1840]}},
                                   "unit_flags": {1849: {"island": True}}, "new_units": []})
    assert scenario.parent.scope.codes == ("01840",)
    assert list(scenario.unit_flags) == ["01849"]


@pytest.mark.parametrize("data,message", [
    ({"name": "s", "new_units": [{"name": "Phường A", "colour": "red"}]},
     'new unit #1 (Phường A): unknown key "colour"'),
    ({"name": "s", "parent": {"kind": "town", "scope": {"wards": ["x"]}}, "new_units": []},
     'parent scope: unknown key "wards"'),
    ({"name": "s", "parent": {"kind": "town", "population": 5}, "new_units": []}, 'parent: unknown key "population"'),
    ({"name": "s", "context": {"hilly": True}, "new_units": []}, 'context: unknown key "hilly"'),
    ({"name": "s", "context": {"ethnic_minority_share": 42}, "new_units": []},
     'context, "ethnic_minority_share": Input should be less than or equal to 1'),
    ({"name": "s", "unit_flags": {"01849": {"border": "maybe"}}, "new_units": []},
     'unit_flags of 01849, "border": Input should be a valid boolean'),
    ({"name": "s", "new_units": [{"name": "a"}, {"name": "Phường B", "mountainous": "rất cao"}]},
     'new unit #2 (Phường B), "mountainous": Input should be a valid boolean'),
    ({"name": "s", "parent": {"kind": "lang"}, "new_units": []}, "parent, \"kind\": unknown parent kind 'lang'"),
])
def test_errors_name_the_object_and_the_field_to_fix(data, message):
    with pytest.raises(InputError) as raised:
        Scenario.from_dict(data, source="plan.json")
    assert str(raised.value.message).startswith("plan.json: ")
    assert message in raised.value.message
    assert raised.value.hint
    assert raised.value.context["errors"][0]["problem"] == raised.value.message


def test_every_problem_of_a_scenario_is_reported_at_once():
    data = {"name": "s", "new_units": [{"name": "a", "kind": "quan"}, {"name": "b", "members": [None]}]}
    with pytest.raises(InputError) as raised:
        Scenario.from_dict(data)
    locations = [error["location"] for error in raised.value.context["errors"]]
    assert locations == ["new_units.0.kind", "new_units.1.members"]
    assert raised.value.hint == "use one of ward|commune|township|special_zone (or phuong|xa|thi_tran|dac_khu)"


def test_store_bookkeeping_keys_are_not_part_of_the_scenario():
    scenario = Scenario.from_dict({"id": "abc", "version": 3, **MINIMAL})
    assert "id" not in scenario.to_dict() and "version" not in scenario.to_dict()


def test_reassigned_copy_keeps_the_fields_it_does_not_touch():
    scenario = Scenario.from_dict(PLANNING_CASE)
    moved, touched = scenario.with_assignments({"01840": "n1"})
    assert touched == {"n1"}
    assert moved.new_units[0].members == ("01960", "01840") and moved.new_units[0].note == PLANNING_CASE[
        "new_units"][0]["note"]
    assert moved.to_dict()["parent"] == PLANNING_CASE["parent"] and moved.unit_flags == scenario.unit_flags
    assert Scenario.from_dict(moved.to_dict()) == moved
