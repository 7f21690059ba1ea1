"""The real 2009 layer joined with a population table whose names are written in other forms."""
import json
import unicodedata

import pandas as pd
import pytest
from typer.testing import CliRunner

from diagioi.api.cli import app

pytestmark = pytest.mark.real_data
PREFIX = {"ward": ["Phường ", "P. ", "P."], "commune": ["Xã ", "X. ", "xã "], "township": ["Thị trấn ", "TT. ", "TT "]}


def _other_forms(gdf):
    rows = []
    for i, (_code, unit) in enumerate(gdf.iterrows()):
        name = unit["name"]
        if i % 3 == 0:
            name = unicodedata.normalize("NFD", name)
        if i % 5 == 0:
            name = name.replace("Đ", "D").replace("đ", "d")
        if i % 7 == 0:
            name = name.replace("oà", "òa").replace("uý", "úy").replace("Hóa", "Hoá")
        district = unit["district"]
        if district.startswith("Huyện "):
            district = "H. " + district.removeprefix("Huyện ")
        rows.append({"Tên đơn vị": PREFIX[unit["kind"]][i % 3] + name, "Quận/Huyện": district,
                     "Tỉnh": unit["province"], "Dân số (người)": 1000 + i})
    return pd.DataFrame(rows)


def test_a_table_with_names_in_other_forms_joins_with_no_silent_drop(shared_data, tmp_path):
    from diagioi.geo.io import read_units

    layer = shared_data / "pre2025_communes_census2009_bk_tn_bg_bn.geojson"
    gdf = read_units(layer).gdf
    table = tmp_path / "dan-so.csv"
    _other_forms(gdf).to_csv(table, index=False)
    result = CliRunner().invoke(app, ["units", str(layer), "--table", str(table), "--join-on", "name",
                                      "--population-year", "2024", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    join = data["join"]
    ambiguous_units = {c for a in join["ambiguous"] for c in a["units"]}
    ambiguous_rows = {r for a in join["ambiguous"] for r in a["rows"]}
    # every unit and every row is accounted for: matched, unmatched or ambiguous
    assert join["matched"] + len(join["unmatched_units"]) + len(ambiguous_units) == len(gdf) == 661
    assert join["matched"] + len(join["unmatched_rows"]) + len(ambiguous_rows) == 661
    assert join["unmatched_units"] == [] and join["unmatched_rows"] == []
    # the only ambiguities are the layer's own: two features with one name in one district
    for item in join["ambiguous"]:
        names = {gdf.at[c, "name"] for c in item["units"]}
        districts = {gdf.at[c, "district"] for c in item["units"]}
        assert len(item["units"]) == 2 and len(names) == 1 and len(districts) == 1
    units = {u["code"]: u for u in data["units"]}
    assert units["01840"]["population_year"] == 2024
    assert units["01840"]["population_source"].startswith("dan-so.csv:Dân số (người) dòng ")
    for code in ambiguous_units:  # not joined: the 2009 census figure stays, with its year and source
        assert units[code]["population_year"] == 2009
