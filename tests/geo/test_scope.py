"""Scope of a parent: districts, provinces and codes matched without diacritics or prefixes."""
import geopandas as gpd
import pytest
import shapely

from diagioi.geo.errors import NotFoundError, ScenarioError
from diagioi.geo.io import read_units
from diagioi.geo.scope import resolve_scope, strip_admin_prefix


@pytest.fixture
def two_districts(tmp_path):
    rows = [
        {"code": "00001", "name": "A", "district": "Thành Phố Bắc Kạn", "province": "Tỉnh Bắc Kạn"},
        {"code": "00002", "name": "B", "district": "Thành Phố Bắc Kạn", "province": "Tỉnh Bắc Kạn"},
        {"code": "00003", "name": "C", "district": "Huyện Bạch Thông", "province": "Tỉnh Bắc Kạn"},
        {"code": "00004", "name": "D", "district": "Thị xã Sông Công", "province": "Tỉnh Thái Nguyên"},
        {"code": "00005", "name": "E", "district": "Thành phố Sông Công", "province": "Tỉnh Thái Nguyên"},
    ]
    for k, row in enumerate(rows):
        row.update(kind="xa", population=100, geometry=shapely.box(105 + k * 0.01, 22, 105.01 + k * 0.01, 22.01))
    path = tmp_path / "units.geojson"
    gpd.GeoDataFrame(rows, crs="EPSG:4326").to_file(path, driver="GeoJSON")
    return read_units(path)


@pytest.mark.parametrize("name", ["TP. Bắc Kạn", "Thành phố Bắc Kạn", "thanh pho bac kan", "Bac Kan", "TP Bắc Kạn"])
def test_a_district_is_found_however_its_prefix_and_diacritics_are_written(two_districts, name):
    scope = resolve_scope(two_districts, {"districts": [name]})
    assert scope.codes == ("00001", "00002")
    assert "00001" in scope and "00003" not in scope


def test_prefixes_are_stripped_after_folding():
    assert strip_admin_prefix("Huyện Bạch Thông") == "bach thong"
    assert strip_admin_prefix("Thị xã Quế Võ") == "que vo"
    assert strip_admin_prefix("TX. Quế Võ") == "que vo"
    assert strip_admin_prefix("Tỉnh Bắc Kạn") == "bac kan"


def test_a_full_name_picks_that_district_when_two_share_a_bare_name(two_districts):
    assert resolve_scope(two_districts, {"districts": ["Thành phố Sông Công"]}).codes == ("00005",)
    assert resolve_scope(two_districts, {"districts": ["Sông Công"]}).codes == ("00004", "00005")


def test_provinces_and_codes_add_up_in_layer_order(two_districts):
    scope = resolve_scope(two_districts, {"provinces": ["Bắc Kạn"], "codes": ["00005"]})
    assert scope.codes == ("00001", "00002", "00003", "00005")
    assert scope.to_dict()["n_units"] == 4


def test_an_unknown_district_is_refused_with_the_nearest_names(two_districts):
    with pytest.raises(ScenarioError) as error:
        resolve_scope(two_districts, {"districts": ["Bạch Thong huyen"]})
    assert "Bạch Thông" in error.value.hint
    # In the reader's language: Vietnamese by default, English on request (the code stays "scenario").
    assert error.value.detail_in("vi") == "scenario: huyện 'Bạch Thong huyen' của parent.scope không có trong lớp đơn vị"
    assert error.value.hint_in("vi").startswith("có phải ý bạn là 'Huyện Bạch Thông'")
    assert error.value.hint_in("en").startswith("did you mean 'Huyện Bạch Thông'")
    assert error.value.code == "scenario"


def test_an_unknown_code_or_key_is_refused(two_districts):
    with pytest.raises(NotFoundError):
        resolve_scope(two_districts, {"codes": ["99999"]})
    with pytest.raises(ScenarioError, match="unknown key"):
        resolve_scope(two_districts, {"wards": ["A"]})


def test_no_scope_is_none(two_districts):
    assert resolve_scope(two_districts, None) is None
    assert resolve_scope(two_districts, {}) is None
