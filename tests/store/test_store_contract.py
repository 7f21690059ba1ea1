"""The contract every store implementation keeps (run once per store, see conftest.make_store).

What the service relies on: create/read/update/delete, optimistic concurrency (a stale write
is refused with the current version, never applied), one audit row per change written in the
same transaction, nothing half-written, units datasets kept under their content hash and read
back with the same figures, and everything still there after a restart.
"""
from __future__ import annotations

import threading

import pytest

from diagioi.api.store import NewFeature
from diagioi.geo.errors import ConflictError, NotFoundError
from diagioi.geo.io import read_units
from helpers.grid import grid_frame

POINT = {"type": "Point", "coordinates": [105.76, 21.61]}


@pytest.fixture
def two_grids(tmp_path):
    """Two unit sets over the same 3×3 grid that differ only in the ethnic-minority share."""
    sets = []
    for share in (0.1, 0.6):
        folder = tmp_path / f"share-{share}"
        folder.mkdir()
        frame = grid_frame("EPSG:4326")
        frame["ethnic_minority_share"] = share
        frame.to_file(folder / "units.geojson", driver="GeoJSON")
        sets.append(read_units(folder / "units.geojson"))
    return sets


def test_a_fresh_store_is_empty_and_at_the_current_schema_version(make_store):
    store = make_store()
    assert store.list_scenarios() == []
    assert store.list_units_datasets() == []
    assert store.active_units_dataset() is None
    assert store.layer_version("tourism_sites") == 0
    assert store.layer_versions() == {}
    assert store.audit_log() == []
    assert store.schema_version() >= 2
    assert make_store().schema_version() == store.schema_version()  # opening again does not migrate twice


def test_scenario_crud_with_versions(make_store):
    store = make_store()
    created = store.create_scenario({"name": "A", "new_units": []}, actor="lan", base_data_version="u1")
    assert (created.version, created.name, created.units_version) == (1, "A", "u1")
    updated = store.update_scenario(created.scenario_id, {"name": "B", "new_units": []}, expected_version=1,
                                    actor="lan", base_data_version="u2")
    assert (updated.version, updated.name, updated.units_version) == (2, "B", "u2")
    assert [r.scenario_id for r in store.list_scenarios()] == [created.scenario_id]
    store.delete_scenario(created.scenario_id, expected_version=2, actor="lan", base_data_version="u2")
    with pytest.raises(NotFoundError):
        store.get_scenario(created.scenario_id)


def test_a_stale_scenario_write_is_refused_with_the_current_version(make_store):
    store = make_store()
    created = store.create_scenario({"name": "A"}, actor="lan", base_data_version=None)
    store.update_scenario(created.scenario_id, {"name": "B"}, expected_version=1, actor="lan", base_data_version=None)
    with pytest.raises(ConflictError, match="version 1.*version 2") as caught:
        store.update_scenario(created.scenario_id, {"name": "C"}, expected_version=1, actor="minh",
                              base_data_version=None)
    assert (caught.value.current_version, caught.value.current) == (2, {"name": "B"})
    with pytest.raises(ConflictError):
        store.delete_scenario(created.scenario_id, expected_version=1, actor="minh", base_data_version=None)
    assert store.get_scenario(created.scenario_id).body == {"name": "B"}


def test_two_writers_on_the_same_version_one_wins_one_gets_a_conflict(make_store):
    store = make_store()
    created = store.create_scenario({"name": "A"}, actor="lan", base_data_version=None)
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def write(name: str) -> None:
        start.wait()
        try:
            store.update_scenario(created.scenario_id, {"name": name}, expected_version=1, actor=name,
                                  base_data_version=None)
            outcomes.append("ok")
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=write, args=(name,)) for name in ("lan", "minh")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    assert store.get_scenario(created.scenario_id).version == 2
    assert len(store.audit_log(object_type="scenario")) == 2  # create + the one update that won


def test_every_change_has_its_audit_row_with_who_what_and_data_version(make_store):
    store = make_store()
    record = store.create_scenario({"name": "A", "regime": "R76"}, actor="lan", base_data_version="u1")
    store.update_scenario(record.scenario_id, {"name": "A2", "regime": "R76"}, expected_version=1,
                          actor="minh", base_data_version="u2")
    newest, oldest = store.audit_log(object_type="scenario", object_id=record.scenario_id)
    assert (oldest.action, oldest.actor, oldest.before, oldest.after) == (
        "create", "lan", None, {"name": "A", "regime": "R76"})
    assert (newest.action, newest.actor, newest.base_data_version) == ("update", "minh", "u2")
    assert (newest.before, newest.after) == ({"name": "A"}, {"name": "A2"})  # only what changed


def test_a_batch_with_a_duplicate_id_stores_nothing_and_audits_nothing(make_store):
    store = make_store()
    store.add_features("tourism_sites", [NewFeature(POINT, {"name": "A"}, "x")], actor="t", base_data_version=None)
    with pytest.raises(ConflictError, match="already has a feature with id 'x'"):
        store.add_features("tourism_sites", [NewFeature(POINT, {"name": "B"}, "y"),
                                             NewFeature(POINT, {"name": "C"}, "x")],
                           actor="t", base_data_version=None)
    assert [f.feature_id for f in store.list_features("tourism_sites")] == ["x"]
    assert store.layer_version("tourism_sites") == 1
    assert len(store.audit_log(object_type="layer_feature")) == 1


def test_feature_update_and_delete_check_versions_and_bump_the_layer(make_store):
    store = make_store()
    (feature,) = store.add_features("tourism_sites", [NewFeature(POINT, {"name": "Chùa"}, "x")], actor="t",
                                    base_data_version=None)
    assert (feature.version, feature.properties) == (1, {"name": "Chùa"})
    moved = {"type": "Point", "coordinates": [105.77, 21.62]}
    updated = store.update_feature("tourism_sites", "x", NewFeature(moved, {"name": "Chùa"}), expected_version=1,
                                   actor="t", base_data_version=None)
    assert (updated.version, updated.geometry) == (2, moved)
    with pytest.raises(ConflictError):
        store.delete_feature("tourism_sites", "x", expected_version=1, actor="t", base_data_version=None)
    store.delete_feature("tourism_sites", "x", expected_version=2, actor="t", base_data_version=None)
    with pytest.raises(NotFoundError, match="no feature 'x'"):
        store.get_feature("tourism_sites", "x")
    assert store.layer_version("tourism_sites") == 3  # add, update, delete
    assert store.layer_version("night_streets") == 0  # other layers untouched
    assert store.layer_versions() == {"tourism_sites": 3}  # all counters in one read; never-written layers absent


def test_units_datasets_are_kept_by_content_hash_and_read_back_with_the_same_figures(make_store, two_grids):
    store = make_store()
    low, high = two_grids
    assert low.version != high.version
    first = store.put_units_dataset(low, name="Lưới 2009", source="grid.geojson", data_date="2009-04-01",
                                    actor="lan")
    assert (first.version, first.unit_count, first.active, first.data_date) == (low.version, 9, True, "2009-04-01")
    second = store.put_units_dataset(high, name="Lưới 2024", source="grid.geojson", actor="lan")
    assert [d.version for d in store.list_units_datasets()] == [low.version, high.version]
    assert store.active_units_dataset().version == high.version

    for original in (low, high):
        loaded = store.load_units(original.version)
        assert loaded.version == original.version
        assert loaded.codes == original.codes
        for column in ("name", "kind", "district", "population", "official_area_km2", "area_km2",
                       "ethnic_minority_share", "mountainous"):
            assert loaded.gdf[column].equals(original.gdf[column]), column
        assert loaded.gdf.geometry.geom_equals_exact(original.gdf.geometry, tolerance=0).all()
    assert set(store.load_units(high.version).gdf["ethnic_minority_share"]) == {0.6}

    # The same content again: no second copy, it only becomes the default again.
    again = store.put_units_dataset(low, name="another name", source="copy.geojson", actor="minh")
    assert (again.version, again.name, again.active) == (low.version, "Lưới 2009", True)
    assert len(store.list_units_datasets()) == 2
    imports = [e for e in store.audit_log(object_type="unit_dataset") if e.action == "import"]
    assert sorted(e.object_id for e in imports) == sorted([low.version, high.version])
    assert second.version == high.version


def test_a_dataset_can_be_stored_without_becoming_the_default_and_activated_later(make_store, two_grids):
    store = make_store()
    low, high = two_grids
    store.put_units_dataset(low, name="cũ", source="a", actor="t")
    store.put_units_dataset(high, name="mới", source="b", actor="t", activate=False)
    assert store.active_units_dataset().version == low.version
    store.activate_units_dataset(high.version, actor="t")
    assert store.active_units_dataset().version == high.version
    assert [d.active for d in store.list_units_datasets()] == [False, True]
    with pytest.raises(NotFoundError, match="no units dataset"):
        store.activate_units_dataset("0000000000000000", actor="t")
    with pytest.raises(NotFoundError, match="no units dataset"):
        store.load_units("0000000000000000")


def test_one_read_tells_the_default_dataset_the_layer_versions_and_the_named_scenario(make_store, two_grids):
    store = make_store()
    low, high = two_grids
    fresh = store.versions("nothing-here")
    assert (fresh.active_dataset, fresh.layers, fresh.scenario) == (None, {}, None)

    store.put_units_dataset(low, name="cũ", source="a", actor="t")
    scenario = store.create_scenario({"name": "Phương án", "new_units": []}, actor="t", base_data_version=low.version)
    store.add_features("tourism_sites", [NewFeature({"type": "Point", "coordinates": [105.8, 22.1]}, {})],
                       actor="t", base_data_version=None)
    store.put_units_dataset(high, name="mới", source="b", actor="t")
    store.update_scenario(scenario.scenario_id, {"name": "Phương án 2", "new_units": []}, expected_version=1,
                          actor="t", base_data_version=high.version)

    seen = store.versions(scenario.scenario_id)
    assert seen.active_dataset == store.active_units_dataset().version == high.version
    assert seen.layers == store.layer_versions() == {"tourism_sites": 1}
    assert seen.scenario == store.get_scenario(scenario.scenario_id)  # the whole record, version 2
    assert store.versions().scenario is None and store.versions().layers == {"tourism_sites": 1}


def test_everything_survives_reopening_the_store(make_store, two_grids):
    store = make_store()
    low, _ = two_grids
    store.put_units_dataset(low, name="Lưới", source="grid.geojson", actor="lan")
    record = store.create_scenario({"name": "Phương án A"}, actor="lan", base_data_version=low.version)
    store.add_features("tourism_sites", [NewFeature(POINT, {"name": "Chùa"}, "site-1")], actor="lan",
                       base_data_version=low.version)

    reopened = make_store()
    assert reopened.get_scenario(record.scenario_id).body == {"name": "Phương án A"}
    assert reopened.get_scenario(record.scenario_id).units_version == low.version
    assert [f.feature_id for f in reopened.list_features("tourism_sites")] == ["site-1"]
    assert reopened.layer_version("tourism_sites") == 1
    assert reopened.active_units_dataset().version == low.version
    assert reopened.load_units(low.version).version == low.version


def test_missing_and_stale_objects_are_told_in_both_languages_with_the_codes_scripts_match(make_store):
    store = make_store()
    created = store.create_scenario({"name": "A", "new_units": []}, actor="lan", base_data_version=None)
    store.add_features("tourism_sites", [NewFeature(POINT, {"name": "Chùa"}, "x")], actor="t",
                       base_data_version=None)
    store.delete_scenario(created.scenario_id, expected_version=1, actor="lan", base_data_version=None)
    errors = {}
    for name, attempt in {
        "read": lambda: store.get_scenario("nope"),
        "delete again": lambda: store.delete_scenario(created.scenario_id, expected_version=1, actor="lan",
                                                      base_data_version=None),
        "edit a missing feature": lambda: store.update_feature("tourism_sites", "nope", NewFeature(POINT, {}),
                                                               expected_version=1, actor="t", base_data_version=None),
        "stale feature": lambda: store.delete_feature("tourism_sites", "x", expected_version=5, actor="t",
                                                      base_data_version=None),
        "dataset": lambda: store.get_units_dataset("nope"),
    }.items():
        with pytest.raises((NotFoundError, ConflictError)) as raised:
            attempt()
        errors[name] = raised.value
    assert {name: error.code for name, error in errors.items()} == {
        "read": "not_found", "delete again": "not_found", "edit a missing feature": "not_found",
        "stale feature": "conflict", "dataset": "not_found"}
    assert errors["read"].to_dict("vi")["detail"] == "không có kịch bản 'nope'"
    assert errors["delete again"].to_dict("vi")["hint"] == "có thể nó đã bị xoá trước đó"
    assert errors["delete again"].to_dict("en")["hint"] == "it may already have been deleted"
    assert errors["edit a missing feature"].to_dict("vi")["hint"] == "tạo đối tượng bằng POST /api/layers/tourism_sites"
    assert errors["stale feature"].to_dict("vi")["detail"] == (
        "đối tượng 'x' đã được người khác sửa: bạn sửa từ phiên bản 5, bản đang lưu là phiên bản 1")
    assert errors["dataset"].to_dict("en") == {"detail": "no units dataset 'nope' in the store",
                                               "hint": "list the datasets with GET /api/datasets",
                                               "context": {"dataset": "nope"}, "code": "not_found"}
