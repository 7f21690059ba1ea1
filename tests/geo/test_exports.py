"""Exports: the annex table (CSV, XLSX read back cell by cell), the crosswalk, GeoPackage and GeoJSON.

The evaluation is written by hand in the shape of notes/contracts.md: three new units of a
provincial city under Resolution 76/2025 —

    n1  Phường Đức Xuân    ward     01840 + 01834            passes (5.5 km², 21,000 people)
    n2  Xã Nông Thượng     commune  01864                    fails  (mountain commune: 100 km², 5,000)
    n3  Phường Bắc Kạn     ward     01843 + 01849 + 01852    exempt (merger of 3, Art. 5 cl. 2)
"""
from __future__ import annotations

import io
import json

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
import shapely

from diagioi.geo.errors import InputError, MissingColumnError, MissingCRSError
from diagioi.geo.exports import (
    crosswalk_rows,
    evaluation_to_rows,
    write_annex_xlsx,
    write_crosswalk_csv,
    write_new_units_geojson,
    write_new_units_gpkg,
    write_table_csv,
)

R76 = {"vi": "Nghị quyết 76/2025/UBTVQH15, Điều 5 khoản 1", "en": "Res. 76/2025/UBTVQH15, Art. 5 cl. 1"}
R76_EXEMPTION = {"vi": "Nghị quyết 76/2025/UBTVQH15, Điều 5 khoản 2", "en": "Res. 76/2025/UBTVQH15, Art. 5 cl. 2"}
R1211 = {"vi": "Nghị quyết 1211/2016/UBTVQH13, Điều 5", "en": "Res. 1211/2016/UBTVQH13, Art. 5"}


def _standard(rule, criterion, value, threshold, unit, *, passed, exempt=False, confirmed=True, citation=R76):
    """A standard as the evaluation JSON gives it: texts in Vietnamese plus their typed forms."""
    status = "exempt" if exempt else "unknown" if passed is None else "pass" if passed else "fail"
    citation_message = {"code": "note.text", "params": {"text": citation}}
    if exempt:
        citation_message = {"code": "citation.exempt", "params": {"citation": citation, "exemption": R76_EXEMPTION}}
    return {"rule": rule, "criterion": criterion, "status": status, "passed": passed, "value": value,
            "threshold": threshold,
            "unit": unit, "comparison": ">=", "margin": value - threshold,
            "percent_of_standard": round(100.0 * value / threshold, 1), "citation": citation["vi"],
            "confirmed": confirmed, "exempt": exempt, "note": None, "citation_message": citation_message,
            "note_messages": []}


def _new_unit(**figures) -> dict:
    """A new unit of the evaluation JSON: the figures given, the other contract fields as for a merger of
    whole, non-mountainous units with no estimate."""
    return {"n_members": len(figures["members"]), "drawn": False, "area_source": "geodesic (WGS 84)",
            "official_area_source": "units.geojson:area", "population_is_estimate": False,
            "missing_population": [], "mountainous": False, "border": False, "island": False, **figures}


@pytest.fixture
def evaluation() -> dict:
    """The evaluation JSON (docs/contract/evaluation.schema.json): the writers validate it into the typed model."""
    return {
        "scenario": {"name": "Bắc Kạn city 2025", "description": None, "regime": "R76",
                     "regime_name": "76/2025/UBTVQH15", "confirmed": True},
        "units_source": "units.geojson", "units_version": "test",
        "new_units": [
            _new_unit(**{"id": "n1", "name": "Phường Đức Xuân", "kind": "ward", "kind_vi": "Phường",
             "members": ["01840", "01834"], "member_names": ["Đức Xuân", "Nguyễn Thị Minh Khai"],
             "area_km2": 12.3, "official_area_km2": 12.1, "area_for_standards_km2": 12.1, "area_basis": "official",
             "area_difference_pct": 1.65, "area_differs": True,
             "population": 23000.0, "population_source": "Công an tỉnh, 31/12/2024", "density": 23000 / 12.1,
             "contiguous": True, "components": [["01840", "01834"]], "overlap_km2": 0.01,
             "standards": [_standard("ward_2025.area", "area_km2", 12.1, 5.5, "km²", passed=True),
                           _standard("ward_2025.population", "population", 23000, 21000, "người", passed=True)],
             "status": "pass"}),
            _new_unit(**{"id": "n2", "name": "Xã Nông Thượng", "kind": "commune", "kind_vi": "Xã",
             "members": ["01864"], "member_names": ["Nông Thượng"],
             "area_km2": 60.2, "official_area_km2": None, "area_for_standards_km2": 60.2, "area_basis": "computed",
             "area_difference_pct": None, "area_differs": False,
             "population": 4100, "population_source": "", "density": 4100 / 60.2,
             "contiguous": True, "components": [["01864"]], "overlap_km2": 0.0,
             "standards": [_standard("commune_2025_mountain.area", "area_km2", 60.2, 100.0, "km²", passed=False),
                           _standard("commune_2025_mountain.population", "population", 4100, 5000, "người",
                                     passed=False)],
             "status": "fail"}),
            _new_unit(**{"id": "n3", "name": "Phường Bắc Kạn", "kind": "ward", "kind_vi": "Phường",
             "members": ["01843", "01849", "01852"], "member_names": ["Phùng Chí Kiên", "Sông Cầu", "Huyền Tụng"],
             "area_km2": 8.0, "official_area_km2": 7.9, "area_for_standards_km2": 7.9, "area_basis": "official",
             "area_difference_pct": 1.27, "area_differs": True,
             "population": 15000, "population_source": "Công an tỉnh, 31/12/2024", "density": 15000 / 7.9,
             "contiguous": False, "components": [["01843", "01849"], ["01852"]], "overlap_km2": 0.0,
             "standards": [_standard("ward_2025.area", "area_km2", 7.9, 5.5, "km²", passed=True, exempt=True),
                           _standard("ward_2025.population", "population", 15000, 21000, "người", passed=False,
                                     exempt=True)],
             "status": "exempt"}),
        ],
        "totals": {
            "units_before": 6, "units_after": 3, "by_kind_before": {"ward": 5, "commune": 1},
            "by_kind_after": {"ward": 2, "commune": 1}, "ward_share_before": 5 / 6, "ward_share_after": 2 / 3,
            "wards_before": 5, "wards_after": 2, "reduction_pct": 50.0,
            "area_km2": 80.5, "official_area_km2": None, "population": 42100, "density": 42100 / 80.2,
            "passing": 1, "failing": 1, "exempt": 1, "unknown": 0,
            "parent": {"name": "Thành phố Bắc Kạn", "kind": "provincial_city", "kind_vi": "Thành phố thuộc tỉnh",
                       "status": "fail", "standards": [
                _standard("provincial_city.population", "population", 42100, 150000, "người", passed=False,
                          citation=R1211),
                _standard("provincial_city.area", "area_km2", 80.2, 150.0, "km²", passed=False, citation=R1211),
            ]},
        },
        "warnings": ["Phường Bắc Kạn: không liền một dải — 2 phần rời: 01843, 01849 | 01852"],
        "warning_messages": [{"code": "warning.not_contiguous", "params": {
            "name": "Phường Bắc Kạn", "n": 2, "parts": "01843, 01849 | 01852", "new_unit_id": "n3"}}],
    }


@pytest.fixture
def units() -> pd.DataFrame:
    """The former units, indexed by code like UnitSet.gdf (attributes only)."""
    frame = pd.DataFrame({
        "code": ["01840", "01834", "01864", "01843", "01849", "01852"],
        "name": ["Đức Xuân", "Nguyễn Thị Minh Khai", "Nông Thượng", "Phùng Chí Kiên", "Sông Cầu", "Huyền Tụng"],
        "kind": ["ward", "ward", "commune", "ward", "ward", "ward"],
        "district": ["Thành phố Bắc Kạn"] * 6,
    })
    return frame.set_index("code", drop=False)


@pytest.fixture
def new_units() -> gpd.GeoDataFrame:
    """Three 0.1° squares near Bắc Kạn, the middle one with a hole (coordinates exact at 7 decimals)."""
    square = shapely.box(105.8, 22.1, 105.9, 22.2)
    holed = shapely.Polygon(shapely.box(105.9, 22.1, 106.0, 22.2).exterior.coords,
                            [shapely.box(105.93, 22.13, 105.96, 22.16).exterior.coords])
    pair = shapely.MultiPolygon([shapely.box(106.0, 22.1, 106.05, 22.2), shapely.box(106.1, 22.1, 106.15, 22.2)])
    return gpd.GeoDataFrame({
        "id": ["n1", "n2", "n3"],
        "name": ["Phường Đức Xuân", "Xã Nông Thượng", "Phường Bắc Kạn"],
        "kind": ["ward", "commune", "ward"],
        "members": [["01840", "01834"], ["01864"], ["01843", "01849", "01852"]],
        "area_km2": [12.3, 60.2, 8.0],
        "official_area_km2": [12.1, float("nan"), 7.9],
        "population": [23000.0, 4100.0, 15000.0],
        "density": [23000 / 12.1, 4100 / 60.2, 15000 / 7.9],
        "contiguous": [True, True, False],
        "status": ["pass", "fail", "exempt"],
    }, geometry=[square, holed, pair], crs="EPSG:4326")


def _find_row(sheet, column: int, text: str) -> int:
    for row in range(1, sheet.max_row + 1):
        if sheet.cell(row=row, column=column).value == text:
            return row
    raise AssertionError(f"{text!r} not found in column {column}")


def _headers(sheet, header_row: int) -> dict[str, int]:
    """Flat header → column number, joining a merged group header with its sub-header."""
    columns = {}
    group = None
    for column in range(1, sheet.max_column + 1):
        top = sheet.cell(row=header_row, column=column).value
        sub = sheet.cell(row=header_row + 1, column=column).value
        if top is not None:
            group = top if sub is not None else None
        columns[f"{group} – {sub}" if group and sub else top] = column
    return columns


# ----------------------------------------------------------------------------------------------- rows


def test_evaluation_to_rows_gives_annex_columns_in_order(evaluation):
    rows = evaluation_to_rows(evaluation)

    assert list(rows[0])[:5] == ["STT", "Tên đơn vị hành chính", "Loại", "Mã đơn vị cũ", "Đơn vị cũ hợp thành"]
    assert list(rows[0])[-3:] == ["Kết luận", "Nguồn số liệu", "Ghi chú"]
    assert [row["STT"] for row in rows] == [1, 2, 3]
    assert rows[0]["Đơn vị cũ hợp thành"] == "Đức Xuân (01840); Nguyễn Thị Minh Khai (01834)"
    assert rows[0]["Diện tích tự nhiên (km²) – Chính thức"] == 12.1
    assert rows[1]["Diện tích tự nhiên (km²) – Chính thức"] is None
    assert rows[0]["Dân số (người)"] == 23000 and isinstance(rows[0]["Dân số (người)"], int)
    assert rows[0]["Mật độ dân số (người/km²)"] == 1901  # rounded as shown: 23 000 / 12,1 = 1 900,8…
    assert rows[1]["Tiêu chuẩn diện tích tự nhiên – Tiêu chuẩn (km²)"] == 100.0
    assert rows[1]["Tiêu chuẩn quy mô dân số – Tỷ lệ (% so với tiêu chuẩn)"] == 82.0
    exempt = "Miễn (Nghị quyết 76/2025/UBTVQH15, Điều 5 khoản 2)"  # the exemption's basis, from the rules file
    assert [row["Tiêu chuẩn quy mô dân số – Kết quả"] for row in rows] == ["Đạt", "Không đạt", exempt]
    assert [row["Kết luận"] for row in rows] == ["Đạt", "Không đạt", exempt]
    assert rows[1]["Nguồn số liệu"] == "Diện tích: tính toán trắc địa (thiếu số liệu chính thức); Dân số: chưa rõ nguồn"
    assert rows[2]["Ghi chú"] == ("Diện tích tính toán lệch +1,3 % so với số liệu chính thức (> 1 %); "
                                  "Không liền một dải (2 phần)")
    assert all(not key.startswith("Mã đơn vị mới") for key in rows[0])  # internal ids (n1…) are not shown


def test_rows_note_drawn_units_and_estimated_population(evaluation):
    evaluation["new_units"][1].update(members=[], member_names=[], drawn=True, population_is_estimate=True)

    row = evaluation_to_rows(evaluation, lang="en")[1]
    assert row["Former unit codes"] == "" and row["Merged former units"] == ""
    assert row["Notes"] == "Boundary drawn by hand (not made of former units); Population is an estimate"


def test_evaluation_to_rows_in_english(evaluation):
    rows = evaluation_to_rows(evaluation, lang="en")

    assert rows[1]["Kind"] == "Commune"
    assert rows[1]["Population standard – Standard (people)"] == 5000
    assert [row["Conclusion"] for row in rows] == ["Passes", "Fails", "Exempt (Res. 76/2025/UBTVQH15, Art. 5 cl. 2)"]


def test_unknown_language_is_refused(evaluation):
    with pytest.raises(InputError, match="unknown export language 'fr'"):
        evaluation_to_rows(evaluation, lang="fr")


def test_evaluation_without_new_units_is_refused():
    with pytest.raises(InputError, match="no 'new_units'"):
        evaluation_to_rows({"scenario": {}})


# ----------------------------------------------------------------------------------------------- CSV


def test_table_csv_round_trips_with_pandas(evaluation, tmp_path):
    path = tmp_path / "annex.csv"
    write_table_csv(evaluation, path)

    assert path.read_bytes()[:3] == b"\xef\xbb\xbf"  # BOM: Excel then reads Vietnamese correctly
    text = path.read_text(encoding="utf-8-sig")
    assert ',"1,7",23.000,1.901,' in text.splitlines()[1]  # Vietnamese numbers: dot for thousands, comma decimal
    table = pd.read_csv(path, encoding="utf-8-sig", dtype={"Mã đơn vị cũ": str}, decimal=",", thousands=".")
    assert len(table) == 3
    assert list(table["Mã đơn vị cũ"]) == ["01840;01834", "01864", "01843;01849;01852"]
    assert list(table["Tên đơn vị hành chính"]) == ["Phường Đức Xuân", "Xã Nông Thượng", "Phường Bắc Kạn"]
    assert table["Dân số (người)"].tolist() == [23000, 4100, 15000]
    assert table["Diện tích tự nhiên (km²) – Tính toán (trắc địa WGS 84)"].sum() == pytest.approx(80.5)
    assert table["Mật độ dân số (người/km²)"][0] == 1901
    assert pd.isna(table["Diện tích tự nhiên (km²) – Chính thức"][1])
    assert list(table["Kết luận"]) == ["Đạt", "Không đạt", "Miễn (Nghị quyết 76/2025/UBTVQH15, Điều 5 khoản 2)"]


def test_table_csv_writes_dot_decimals_to_a_text_buffer(evaluation):
    buffer = io.StringIO()
    write_table_csv(evaluation, buffer, lang="en")

    text = buffer.getvalue()
    assert text.startswith("\ufeffNo.,Administrative unit,Kind,")
    assert ",12.1,12.3,1.7,23000,1901," in text.splitlines()[1]  # rounded as the annex shows them


def test_crosswalk_rows_take_names_kinds_and_districts_from_units(evaluation, units):
    rows = crosswalk_rows(evaluation, units)

    assert [row["old_code"] for row in rows] == ["01840", "01834", "01864", "01843", "01849", "01852"]
    assert rows[2] == {"old_code": "01864", "old_name": "Nông Thượng", "old_kind": "commune",
                       "district": "Thành phố Bắc Kạn", "new_unit_id": "n2", "new_unit_name": "Xã Nông Thượng",
                       "new_kind": "commune", "share": "toàn bộ", "area_share": 1.0, "population_share": 1.0}


def test_crosswalk_rows_without_units_use_member_names(evaluation):
    rows = crosswalk_rows(evaluation)

    assert rows[1] == {"old_code": "01834", "old_name": "Nguyễn Thị Minh Khai", "old_kind": None,
                       "district": None, "new_unit_id": "n1", "new_unit_name": "Phường Đức Xuân",
                       "new_kind": "ward", "share": "toàn bộ", "area_share": 1.0, "population_share": 1.0}


def test_crosswalk_refuses_a_member_missing_from_units(evaluation, units):
    with pytest.raises(MissingColumnError, match="01864 of new unit 'Xã Nông Thượng' is not in the units table"):
        crosswalk_rows(evaluation, units.drop(index="01864"))


def test_crosswalk_csv_keeps_codes_as_text(evaluation, units, tmp_path):
    path = tmp_path / "crosswalk.csv"
    write_crosswalk_csv(evaluation, units, path)

    table = pd.read_csv(path, encoding="utf-8-sig", dtype=str)
    assert list(table.columns) == ["Mã đơn vị cũ", "Tên đơn vị cũ", "Loại đơn vị cũ", "Quận/huyện cũ",
                                   "Tên đơn vị mới", "Loại đơn vị mới", "Chuyển toàn bộ / một phần",
                                   "Tỷ lệ diện tích chuyển (%)", "Tỷ lệ dân số chuyển (%, ước tính nếu một phần)"]
    assert table.iloc[0].tolist() == ["01840", "Đức Xuân", "Phường", "Thành phố Bắc Kạn", "Phường Đức Xuân", "Phường",
                                      "toàn bộ", "100,0", "100,0"]
    assert table["Mã đơn vị cũ"].tolist()[3:] == ["01843", "01849", "01852"]


# ----------------------------------------------------------------------------------------------- XLSX


@pytest.fixture
def annex_xlsx(evaluation, units, tmp_path):
    path = tmp_path / "annex.xlsx"
    write_annex_xlsx(evaluation, path, units_crosswalk=crosswalk_rows(evaluation, units))
    return openpyxl.load_workbook(path)


def test_annex_xlsx_has_title_rows_and_two_level_header(annex_xlsx):
    sheet = annex_xlsx["Phụ lục"]

    assert annex_xlsx.sheetnames == ["Phụ lục", "Bảng chuyển đổi"]
    assert sheet["A1"].value.startswith("PHỤ LỤC: DIỆN TÍCH TỰ NHIÊN, DÂN SỐ VÀ MẬT ĐỘ DÂN SỐ")
    assert sheet["A2"].value == "Phương án: Bắc Kạn city 2025"
    assert sheet["A3"].value == "Đơn vị hành chính cấp trên: Thành phố Bắc Kạn (Thành phố thuộc tỉnh)"
    assert sheet["A4"].value == "Căn cứ tiêu chuẩn: Nghị quyết số 76/2025/UBTVQH15"
    header_row = _find_row(sheet, 1, "STT")
    headers = _headers(sheet, header_row)
    assert list(headers)[:8] == [
        "STT", "Tên đơn vị hành chính", "Loại", "Mã đơn vị cũ", "Đơn vị cũ hợp thành",
        "Diện tích tự nhiên (km²) – Chính thức", "Diện tích tự nhiên (km²) – Tính toán (trắc địa WGS 84)",
        "Diện tích tự nhiên (km²) – Chênh lệch (%)"]
    assert "Tiêu chuẩn quy mô dân số – Kết quả" in headers
    assert list(headers)[-3:] == ["Kết luận", "Nguồn số liệu", "Ghi chú"]
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert f"A{header_row}:A{header_row + 1}" in merged  # STT spans both header rows
    assert f"F{header_row}:H{header_row}" in merged      # "Diện tích tự nhiên (km²)" over its three columns
    assert sheet.freeze_panes == f"D{header_row + 2}"


def test_annex_xlsx_stores_numbers_as_numbers_with_display_formats(annex_xlsx):
    sheet = annex_xlsx["Phụ lục"]
    header_row = _find_row(sheet, 1, "STT")
    headers = _headers(sheet, header_row)
    first = header_row + 2

    official = sheet.cell(row=first, column=headers["Diện tích tự nhiên (km²) – Chính thức"])
    assert official.value == 12.1 and official.data_type == "n" and official.number_format == "#,##0.00"
    population = sheet.cell(row=first, column=headers["Dân số (người)"])
    assert population.value == 23000 and population.data_type == "n" and population.number_format == "#,##0"
    share = sheet.cell(row=first + 1, column=headers["Tiêu chuẩn diện tích tự nhiên – Tỷ lệ (% so với tiêu chuẩn)"])
    assert share.value == pytest.approx(60.2) and share.number_format == "0.0"
    threshold = sheet.cell(row=first + 1, column=headers["Tiêu chuẩn quy mô dân số – Tiêu chuẩn (người)"])
    assert threshold.value == 5000 and threshold.number_format == "#,##0"
    missing = sheet.cell(row=first + 1, column=headers["Diện tích tự nhiên (km²) – Chính thức"])
    assert missing.value is None


def test_annex_xlsx_keeps_codes_as_text_and_writes_results(annex_xlsx):
    sheet = annex_xlsx["Phụ lục"]
    header_row = _find_row(sheet, 1, "STT")
    headers = _headers(sheet, header_row)
    first = header_row + 2

    codes = sheet.cell(row=first + 1, column=headers["Mã đơn vị cũ"])
    assert codes.value == "01864" and codes.data_type == "s" and codes.number_format == "@"
    results = [sheet.cell(row=first + i, column=headers["Tiêu chuẩn quy mô dân số – Kết quả"]).value for i in range(3)]
    exempt = "Miễn (Nghị quyết 76/2025/UBTVQH15, Điều 5 khoản 2)"
    assert results == ["Đạt", "Không đạt", exempt]
    conclusions = [sheet.cell(row=first + i, column=headers["Kết luận"]).value for i in range(3)]
    assert conclusions == ["Đạt", "Không đạt", exempt]


def test_annex_xlsx_total_row_adds_up(annex_xlsx):
    sheet = annex_xlsx["Phụ lục"]
    headers = _headers(sheet, _find_row(sheet, 1, "STT"))
    total_row = _find_row(sheet, headers["Tên đơn vị hành chính"], "Tổng cộng")

    def total(header):
        return sheet.cell(row=total_row, column=headers[header]).value

    assert total("Diện tích tự nhiên (km²) – Tính toán (trắc địa WGS 84)") == pytest.approx(80.5)
    assert total("Diện tích tự nhiên (km²) – Chính thức") is None  # n2 has no official area: no partial sum
    assert total("Dân số (người)") == 42100
    assert total("Mật độ dân số (người/km²)") == 525  # 42 100 people / 80,2 km², rounded as shown
    assert sheet.cell(row=total_row, column=headers["Dân số (người)"]).number_format == "#,##0"


def test_annex_xlsx_parent_block_and_footnotes(annex_xlsx):
    sheet = annex_xlsx["Phụ lục"]
    heading_row = _find_row(sheet, 3, "CÁC CHỈ TIÊU CỦA THÀNH PHỐ BẮC KẠN (Thành phố thuộc tỉnh)")

    assert [sheet.cell(row=heading_row + 1, column=c).value for c in range(3, 10)] == [
        "Chỉ tiêu", "Trước sắp xếp", "Sau sắp xếp", "Tiêu chuẩn", "Tỷ lệ (% so với tiêu chuẩn)", "Kết quả",
        "Căn cứ"]
    count_row = _find_row(sheet, 3, "Số đơn vị hành chính cấp xã")
    assert [sheet.cell(row=count_row, column=c).value for c in (4, 5)] == [6, 3]
    ward_row = _find_row(sheet, 3, "– Phường")
    assert [sheet.cell(row=ward_row, column=c).value for c in (4, 5)] == [5, 2]
    share_row = _find_row(sheet, 3, "Tỷ lệ số phường (%)")
    assert sheet.cell(row=share_row, column=5).value == 66.7
    assert sheet.cell(row=share_row, column=5).number_format == "0.0"
    population_row = _find_row(sheet, 3, "Quy mô dân số (người)")
    assert [sheet.cell(row=population_row, column=c).value for c in range(5, 10)] == [
        42100, 150000, 28.1, "Không đạt", "Nghị quyết 1211/2016/UBTVQH13, Điều 5"]

    notes = [sheet.cell(row=r, column=1).value or "" for r in range(population_row, sheet.max_row + 1)]
    assert any("trắc địa trên ellipsoid WGS 84" in note for note in notes)
    assert any(note.endswith("Tiêu chuẩn quy mô dân số: " + R76["vi"]) for note in notes)
    assert any("Điều 5 khoản 2" in note for note in notes)
    assert notes[-1].endswith("Cảnh báo: Phường Bắc Kạn: không liền một dải — 2 phần rời: 01843, 01849 | 01852")


def test_annex_xlsx_print_setup_is_landscape_a4_fit_to_width(annex_xlsx):
    sheet = annex_xlsx["Phụ lục"]

    assert sheet.page_setup.orientation == "landscape"
    assert int(sheet.page_setup.paperSize) == 9  # A4
    assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
    assert (int(sheet.page_setup.fitToWidth), int(sheet.page_setup.fitToHeight)) == (1, 0)
    assert sheet.column_dimensions["E"].width == 34


def test_annex_xlsx_crosswalk_sheet_keeps_leading_zeros(annex_xlsx):
    sheet = annex_xlsx["Bảng chuyển đổi"]

    assert [c.value for c in sheet[1]][:6] == ["Mã đơn vị cũ", "Tên đơn vị cũ", "Loại đơn vị cũ", "Quận/huyện cũ",
                                              "Tên đơn vị mới", "Loại đơn vị mới"]
    assert [c.value for c in sheet[2]] == ["01840", "Đức Xuân", "Phường", "Thành phố Bắc Kạn", "Phường Đức Xuân",
                                          "Phường", "toàn bộ", 100, 100]
    assert sheet["A2"].data_type == "s" and sheet["A2"].number_format == "@"
    assert sheet.max_row == 7


def test_annex_xlsx_accepts_crosswalk_rows_named_like_evaluation_crosswalk(evaluation, tmp_path):
    rows = [{"old_code": "01864", "old_name": "Nông Thượng", "old_kind": "commune", "district": float("nan"),
             "new_unit_id": "n2", "new_name": "Xã Nông Thượng", "new_kind": "commune"}]
    path = tmp_path / "annex.xlsx"
    write_annex_xlsx(evaluation, path, lang="en", units_crosswalk=rows)

    sheet = openpyxl.load_workbook(path)["Crosswalk"]
    assert [c.value for c in sheet[2]] == ["01864", "Nông Thượng", "Commune", None, "Xã Nông Thượng", "Commune",
                                          None, None, None]


def test_annex_xlsx_in_english_warns_about_an_unconfirmed_regime(evaluation):
    evaluation["scenario"].update(regime="R112", regime_name="112/2025/UBTVQH15", confirmed=False)
    buffer = io.BytesIO()
    write_annex_xlsx(evaluation, buffer, lang="en", title="ANNEX 2")

    workbook = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    sheet = workbook["Annex"]
    assert workbook.sheetnames == ["Annex"]
    assert sheet["A1"].value == "ANNEX 2"
    assert sheet["A4"].value == ("Standards: Resolution 112/2025/UBTVQH15 — WARNING: this rule set is not "
                                 "confirmed; results are indicative only")
    headers = _headers(sheet, _find_row(sheet, 1, "No."))
    assert "Natural area (km²) – Computed (geodesic, WGS 84)" in headers
    first = _find_row(sheet, 1, "No.") + 2
    assert sheet.cell(row=first + 2, column=headers["Conclusion"]).value == "Exempt (Res. 76/2025/UBTVQH15, Art. 5 cl. 2)"


# ----------------------------------------------------------------------------------------------- GIS files


def test_gpkg_round_trip_flattens_members(new_units, tmp_path):
    path = tmp_path / "out" / "new_units.gpkg"
    write_new_units_gpkg(new_units, path)

    back = gpd.read_file(path, layer="new_units")
    assert back.crs.to_epsg() == 4326
    assert list(back["members"]) == ["01840;01834", "01864", "01843;01849;01852"]
    assert list(back["id"]) == ["n1", "n2", "n3"]
    # a layer has one geometry type, so the mixed Polygon/MultiPolygon column comes back as MultiPolygons
    assert back.geom_type.tolist() == ["MultiPolygon"] * 3
    assert back.geometry.geom_equals(new_units.geometry).all()
    assert back["population"].tolist() == [23000.0, 4100.0, 15000.0]
    assert back["contiguous"].tolist() == [True, True, False]
    assert sorted(p.name for p in path.parent.iterdir()) == ["new_units.gpkg"]  # no temporary left behind


def test_gpkg_summarises_standards_column(new_units, evaluation, tmp_path):
    new_units["standards"] = [unit["standards"] for unit in evaluation["new_units"]]
    path = tmp_path / "new_units.gpkg"
    write_new_units_gpkg(new_units, path)

    back = gpd.read_file(path)
    assert back["standards"][1] == "Diện tích tự nhiên: Không đạt 60,2 %; Quy mô dân số: Không đạt 82,0 %"
    assert back["standards"][2] == "Diện tích tự nhiên: Miễn 143,6 %; Quy mô dân số: Miễn 71,4 %"
    # kinds and statuses are words in the reader's language too; figures stay numbers
    assert list(back["kind"]) == ["Phường", "Xã", "Phường"]
    assert list(back["status"]) == ["Đạt", "Không đạt", "Miễn"]
    assert back["population"].tolist() == [23000.0, 4100.0, 15000.0]


def test_gpkg_in_english(new_units, evaluation, tmp_path):
    new_units["standards"] = [unit["standards"] for unit in evaluation["new_units"]]
    path = tmp_path / "new_units.gpkg"
    write_new_units_gpkg(new_units, path, lang="en")

    back = gpd.read_file(path)
    assert back["standards"][1] == "Natural area: Fails 60.2 %; Population: Fails 82.0 %"
    assert list(back["kind"]) == ["Ward", "Commune", "Ward"]


def test_gpkg_overwrites_an_existing_file(new_units, tmp_path):
    path = tmp_path / "new_units.gpkg"
    write_new_units_gpkg(new_units, path)
    write_new_units_gpkg(new_units.iloc[:1], path)

    assert len(gpd.read_file(path)) == 1


def test_gpkg_refuses_units_without_crs(new_units, tmp_path):
    with pytest.raises(MissingCRSError, match="no CRS"):
        write_new_units_gpkg(new_units.set_crs(None, allow_override=True), tmp_path / "x.gpkg")


def test_geojson_is_rfc7946_with_seven_decimals(new_units, tmp_path):
    new_units.loc[0, "geometry"] = shapely.box(105.812345678, 22.1, 105.9, 22.2)
    path = tmp_path / "new_units.geojson"
    write_new_units_geojson(new_units.to_crs(3405), path)  # given in VN-2000 / UTM 48N, written in 4326

    document = json.loads(path.read_text(encoding="utf-8"))
    assert "crs" not in document  # RFC 7946: WGS 84 lon/lat implied
    ring = document["features"][0]["geometry"]["coordinates"][0]
    assert min(x for x, _ in ring) == pytest.approx(105.8123457, abs=2e-7)
    assert all(len(f"{x!r}".split(".")[-1]) <= 7 for x, _ in ring)
    assert shapely.Polygon(ring).exterior.is_ccw  # right-hand rule
    assert document["features"][2]["properties"]["members"] == "01843;01849;01852"

    back = gpd.read_file(path)
    assert back.crs.to_epsg() == 4326
    assert back.geometry.normalize().geom_equals_exact(new_units.geometry.normalize(), tolerance=1e-6).all()
    assert list(back["members"]) == ["01840;01834", "01864", "01843;01849;01852"]


def test_geojson_to_a_text_buffer(new_units):
    buffer = io.StringIO()
    write_new_units_geojson(new_units, buffer)

    document = json.loads(buffer.getvalue())
    assert [f["properties"]["id"] for f in document["features"]] == ["n1", "n2", "n3"]
    assert document["features"][1]["properties"]["official_area_km2"] is None
    assert len(document["features"][1]["geometry"]["coordinates"]) == 2  # outer ring and hole


# ----------------------------------------------------------------------------------------------- zoning sheet


@pytest.fixture
def zoning() -> pd.DataFrame:
    """Zoning indicators per new unit, as layers.indicators.new_unit_indicators gives them (n3 has none)."""
    from diagioi.geo.i18n import Message

    table = pd.DataFrame({"industrial_cluster_count": [1, 0], "industrial_cluster_area_km2": [0.4567, 0.0],
                          "industrial_cluster_share_pct": [3.7131, 0.0], "tourism_site_count": [0, 2],
                          "night_street_length_km": [1.23456, 0.0], "source": ["…", "…"]},
                         index=pd.Index(["n1", "n2"], name="id"))
    table.attrs["source_message"] = Message("indicators.source", {"layers": [Message(
        "indicators.layer_features", {"layer": Message("zoning.industrial_clusters"), "n": 1})]})
    return table


def test_annex_xlsx_zoning_sheet_has_one_row_per_new_unit_with_headers_and_units(evaluation, zoning, tmp_path):
    path = tmp_path / "annex.xlsx"
    write_annex_xlsx(evaluation, path, zoning=zoning)

    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["Phụ lục", "Chỉ tiêu quy hoạch"]
    sheet = workbook["Chỉ tiêu quy hoạch"]
    assert [c.value for c in sheet[1]] == ["STT", "Tên đơn vị hành chính", "Loại", "Số cụm công nghiệp",
                                          "Diện tích cụm công nghiệp (km²)", "Tỉ lệ diện tích cụm công nghiệp (%)",
                                          "Số điểm du lịch", "Chiều dài phố đêm (km)"]
    assert [c.value for c in sheet[2]] == [1, "Phường Đức Xuân", "Phường", 1, 0.46, 3.7, 0, 1.23]
    assert [c.value for c in sheet[4]] == [3, "Phường Bắc Kạn", "Phường", None, None, None, None, None]
    assert [sheet.cell(row=2, column=c).number_format for c in (4, 5, 6)] == ["0", "#,##0.00", "0.0"]
    assert sheet["A6"].value == "Nguồn: lớp quy hoạch, đo trắc địa trên WGS 84; Cụm công nghiệp: 1 đối tượng"


def test_annex_xlsx_zoning_sheet_in_english(evaluation, zoning):
    buffer = io.BytesIO()
    write_annex_xlsx(evaluation, buffer, lang="en", zoning=zoning)

    sheet = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))["Zoning indicators"]
    assert [c.value for c in sheet[1]][3:5] == ["Industrial clusters", "Industrial cluster area (km²)"]
    assert sheet["C3"].value == "Commune"


def test_gis_parts_write_the_share_with_a_decimal_comma_for_vietnamese_readers(grid_units, grid_box, tmp_path):
    from diagioi.geo.evaluation import evaluate
    from diagioi.geo.scenario import Scenario

    drawn = shapely.geometry.mapping(grid_box(1000, 1000, 1500, 2000))  # the west half of 00005
    scenario = Scenario.from_dict({"name": "Vẽ tay", "new_units": [
        {"id": "n1", "name": "Phường Vẽ", "kind": "ward", "members": ["00004"], "geometry": drawn}]})
    new_units = evaluate(grid_units, scenario).new_units_gdf()
    assert list(new_units["parts"]) == [["00005 (50.0%)"]]  # the language-free frame keeps its dot

    write_new_units_gpkg(new_units, tmp_path / "vi.gpkg")
    write_new_units_gpkg(new_units, tmp_path / "en.gpkg", lang="en")
    buffer = io.BytesIO()
    write_new_units_geojson(new_units, buffer)
    assert gpd.read_file(tmp_path / "vi.gpkg")["parts"].tolist() == ["00005 (50,0%)"]
    assert gpd.read_file(tmp_path / "en.gpkg")["parts"].tolist() == ["00005 (50.0%)"]
    assert json.loads(buffer.getvalue())["features"][0]["properties"]["parts"] == "00005 (50,0%)"
