"""Exports of an evaluation: the area & density annex (CSV, XLSX), the old→new crosswalk, new units as GIS files.

Every writer takes the evaluation JSON dict of ``notes/contracts.md`` (what ``Evaluation.to_json()``
returns), so this module does not depend on how the evaluation is computed. The table follows the
layout of the annexes attached to the 2025 arrangement resolutions: STT, unit name, kind, merged
former units, natural area (official and computed), population, density, then for every standard
the threshold, the share of the standard reached and Đạt / Không đạt, a conclusion and the data
sources.

Numbers stay numbers (dot decimal in CSV; numeric cells with display formats in XLSX, so Excel shows
the reader's own separators) and codes stay text, leading zeros kept. Files given by path are
written atomically: to a temporary file beside the target, then ``os.replace``.
"""
from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InputError, MissingColumnError, MissingCRSError
from .kinds import ParentKind, UnitKind

__all__ = [
    "crosswalk_rows",
    "evaluation_to_rows",
    "write_annex_xlsx",
    "write_crosswalk_csv",
    "write_new_units_geojson",
    "write_new_units_gpkg",
    "write_table_csv",
]

LANGUAGES = ("vi", "en")

# Display formats: Excel renders ',' and '.' with the separators of the reader's locale.
KM2_FORMAT = "#,##0.00"
PEOPLE_FORMAT = "#,##0"
DENSITY_FORMAT = "#,##0"
PERCENT_FORMAT = "0.0"
TEXT_FORMAT = "@"
INTEGER_FORMAT = "0"
NUMBER_FORMAT = "#,##0.##"

GEOJSON_DECIMALS = 7  # ~1 cm at the equator, RFC 7946 §11.2 recommends not more

_TEXTS: dict[str, dict[str, str]] = {
    "vi": {
        "title": "PHỤ LỤC: DIỆN TÍCH TỰ NHIÊN, DÂN SỐ VÀ MẬT ĐỘ DÂN SỐ CÁC ĐƠN VỊ HÀNH CHÍNH CẤP XÃ SAU SẮP XẾP",
        "sheet_annex": "Phụ lục",
        "sheet_crosswalk": "Bảng chuyển đổi",
        "scenario": "Phương án: {name}",
        "parent": "Đơn vị hành chính cấp trên: {name} ({kind})",
        "regime": "Căn cứ tiêu chuẩn: Nghị quyết số {regime_name}",
        "unconfirmed_regime": " — CẢNH BÁO: bộ tiêu chuẩn này chưa được xác nhận, kết quả chỉ để tham khảo",
        "stt": "STT",
        "new_unit_id": "Mã đơn vị mới",
        "name": "Tên đơn vị hành chính",
        "kind": "Loại",
        "member_codes": "Mã đơn vị cũ",
        "members": "Đơn vị cũ hợp thành",
        "area_group": "Diện tích tự nhiên (km²)",
        "official_area": "Chính thức",
        "computed_area": "Tính toán (trắc địa WGS84)",
        "area_difference": "Chênh lệch (%)",
        "population": "Dân số (người)",
        "density": "Mật độ dân số (người/km²)",
        "standard_group": "Tiêu chuẩn {criterion}",
        "threshold": "Tiêu chuẩn ({unit})",
        "percent_of_standard": "Tỷ lệ (% so với tiêu chuẩn)",
        "standard": "Tiêu chuẩn",
        "result": "Kết quả",
        "conclusion": "Kết luận",
        "sources": "Nguồn số liệu",
        "notes": "Ghi chú",
        "total": "Tổng cộng",
        "pass": "Đạt",
        "fail": "Không đạt",
        "exempt": "Miễn",
        "exempt_r76": "Miễn (Điều 5 khoản 2)",
        "no_data": "Thiếu số liệu",
        "area_official": "Diện tích: số liệu chính thức",
        "area_computed": "Diện tích: tính toán trắc địa (thiếu số liệu chính thức)",
        "population_source": "Dân số: {source}",
        "population_unknown": "Dân số: chưa rõ nguồn",
        "area_differs": "Diện tích tính toán lệch {pct} so với số liệu chính thức (> 1 %)",
        "not_contiguous": "Không liền mạch ({parts} phần)",
        "drawn": "Ranh giới vẽ mới (không ghép từ đơn vị cũ)",
        "population_estimate": "Dân số là số ước tính",
        "missing_population": "Thiếu dân số của: {codes}",
        "unconfirmed_standard": "Tiêu chuẩn {criterion} chưa được xác nhận",
        "parent_heading": "CÁC CHỈ TIÊU CỦA {name} ({kind})",
        "summary_heading": "TỔNG HỢP SỐ ĐƠN VỊ HÀNH CHÍNH CẤP XÃ",
        "indicator": "Chỉ tiêu",
        "before": "Trước sắp xếp",
        "after": "Sau sắp xếp",
        "citation": "Căn cứ",
        "units_count": "Số đơn vị hành chính cấp xã",
        "units_of_kind": "– {kind}",
        "ward_share": "Tỷ lệ số phường (%)",
        "footnotes": "Ghi chú:",
        "note_geodesic": "Diện tích tính toán là diện tích trắc địa trên ellipsoid WGS 84 (thuật toán Karney, pyproj Geod); "
                         "phần chồng lấn giữa các đơn vị cũ không tính hai lần.",
        "note_density": "Mật độ dân số = dân số / diện tích dùng để xét tiêu chuẩn (số liệu chính thức khi có đủ cho "
                        "mọi đơn vị cũ, nếu không thì diện tích tính toán). Chênh lệch (%) = (tính toán − chính thức) "
                        "/ chính thức × 100.",
        "note_rule": "Tiêu chuẩn {criterion} ({rule}): {citation}",
        "note_rule_unconfirmed": " — chưa được xác nhận",
        "note_exempt_r76": "Miễn: sắp xếp từ 3 đơn vị hành chính cấp xã trở lên thành 1 đơn vị thì không bắt buộc đạt "
                           "tiêu chuẩn tại khoản 1 (Nghị quyết 76/2025/UBTVQH15, Điều 5 khoản 2).",
        "note_fail_r76": "Đơn vị không đạt tiêu chuẩn và không thuộc trường hợp tại khoản 2 được Chính phủ trình Ủy ban "
                         "Thường vụ Quốc hội xem xét, quyết định (Nghị quyết 76/2025/UBTVQH15, Điều 5 khoản 3).",
        "note_warning": "Cảnh báo: {warning}",
        "old_code": "Mã đơn vị cũ",
        "old_name": "Tên đơn vị cũ",
        "old_kind": "Loại đơn vị cũ",
        "district": "Quận/huyện cũ",
        "new_unit_name": "Tên đơn vị mới",
        "new_kind": "Loại đơn vị mới",
        "share": "Chuyển toàn bộ / một phần",
        "area_share": "Tỷ lệ diện tích chuyển",
        "population_share": "Tỷ lệ dân số chuyển (ước tính nếu một phần)",
    },
    "en": {
        "title": "ANNEX: NATURAL AREA, POPULATION AND POPULATION DENSITY OF THE COMMUNE-LEVEL ADMINISTRATIVE UNITS "
                 "AFTER THE ARRANGEMENT",
        "sheet_annex": "Annex",
        "sheet_crosswalk": "Crosswalk",
        "scenario": "Scenario: {name}",
        "parent": "Parent unit: {name} ({kind})",
        "regime": "Standards: Resolution {regime_name}",
        "unconfirmed_regime": " — WARNING: this rule set is not confirmed; results are indicative only",
        "stt": "No.",
        "new_unit_id": "New unit id",
        "name": "Administrative unit",
        "kind": "Kind",
        "member_codes": "Former unit codes",
        "members": "Merged former units",
        "area_group": "Natural area (km²)",
        "official_area": "Official",
        "computed_area": "Computed (geodesic, WGS 84)",
        "area_difference": "Difference (%)",
        "population": "Population (people)",
        "density": "Population density (people/km²)",
        "standard_group": "{criterion} standard",
        "threshold": "Standard ({unit})",
        "percent_of_standard": "Share of standard (%)",
        "standard": "Standard",
        "result": "Result",
        "conclusion": "Conclusion",
        "sources": "Data sources",
        "notes": "Notes",
        "total": "Total",
        "pass": "Pass",
        "fail": "Fail",
        "exempt": "Exempt",
        "exempt_r76": "Exempt (Art. 5 cl. 2)",
        "no_data": "No data",
        "area_official": "Area: official figures",
        "area_computed": "Area: computed geodesic (official figures missing)",
        "population_source": "Population: {source}",
        "population_unknown": "Population: source unknown",
        "area_differs": "Computed area differs by {pct} from the official figure (> 1 %)",
        "not_contiguous": "Not contiguous ({parts} parts)",
        "drawn": "Boundary drawn by hand (not made of former units)",
        "population_estimate": "Population is an estimate",
        "missing_population": "No population for: {codes}",
        "unconfirmed_standard": "{criterion} standard not confirmed",
        "parent_heading": "INDICATORS OF {name} ({kind})",
        "summary_heading": "COMMUNE-LEVEL UNITS: SUMMARY",
        "indicator": "Indicator",
        "before": "Before",
        "after": "After",
        "citation": "Legal basis",
        "units_count": "Commune-level units",
        "units_of_kind": "– {kind}",
        "ward_share": "Share of wards (%)",
        "footnotes": "Notes:",
        "note_geodesic": "Computed area is geodesic on the WGS 84 ellipsoid (Karney's algorithm, pyproj Geod); "
                         "overlaps between former units are not counted twice.",
        "note_density": "Density = population / area used for the standards (official figures when every former unit "
                        "has one, otherwise the computed area). Difference (%) = (computed − official) / official × 100.",
        "note_rule": "{criterion} standard ({rule}): {citation}",
        "note_rule_unconfirmed": " — not confirmed",
        "note_exempt_r76": "Exempt: a merger of 3 or more commune-level units into one is not required to meet the "
                           "standards of clause 1 (Res. 76/2025/UBTVQH15, Art. 5 cl. 2).",
        "note_fail_r76": "A unit that fails the standards and is not covered by clause 2 is submitted by the Government "
                         "to the NA Standing Committee for decision (Res. 76/2025/UBTVQH15, Art. 5 cl. 3).",
        "note_warning": "Warning: {warning}",
        "old_code": "Old code",
        "old_name": "Old name",
        "old_kind": "Old kind",
        "district": "Former district",
        "new_unit_name": "New unit name",
        "new_kind": "New kind",
        "share": "Whole / part (toàn bộ / một phần)",
        "area_share": "Share of area moved",
        "population_share": "Share of population moved (estimate when a part)",
    },
}

_CRITERION_LABELS = {
    "vi": {"area": "diện tích", "area_km2": "diện tích", "population": "dân số",
           "no_numeric_standard": "không định lượng", "subunits": "số đơn vị trực thuộc",
           "ward_share": "tỷ lệ số phường", "density": "mật độ dân số"},
    "en": {"area": "Area", "area_km2": "Area", "population": "Population",
           "no_numeric_standard": "Non-numeric", "subunits": "Subordinate units",
           "ward_share": "Share of wards", "density": "Density"},
}
_UNIT_LABELS_EN = {"người": "people", "đơn vị": "units", "người/km²": "people/km²"}
_KIND_LABELS_EN = {
    UnitKind.ward: "Ward", UnitKind.commune: "Commune", UnitKind.township: "Township",
    UnitKind.special_zone: "Special zone",
}

CROSSWALK_KEYS = ("old_code", "old_name", "old_kind", "district", "new_unit_id", "new_unit_name", "new_kind",
                  "share", "area_share", "population_share")


# --------------------------------------------------------------------------------------------- columns and rows

@dataclass(frozen=True)
class _Column:
    """One column of the annex: a flat header (CSV, row key) and a two-level header (XLSX)."""

    group: str | None  # upper header, merged across its sub-columns; None: the column spans both header rows
    label: str         # lower header (or the only one)
    number_format: str | None  # None: plain text cell
    width: float
    wrap: bool = False

    @property
    def key(self) -> str:
        return f"{self.group} – {self.label}" if self.group else self.label


def _texts(lang: str) -> dict[str, str]:
    if lang not in _TEXTS:
        raise InputError(f"unknown export language {lang!r}", hint="use lang='vi' or lang='en'")
    return _TEXTS[lang]


def _new_units(evaluation: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if not isinstance(evaluation, Mapping) or not isinstance(evaluation.get("new_units"), list):
        raise InputError(
            "the evaluation has no 'new_units' list",
            hint="pass the evaluation JSON dict (Evaluation.to_json() or GET /api/scenarios/{id}/evaluation)",
        )
    return evaluation["new_units"]


def _criterion_slots(unit: Mapping[str, Any]) -> list[tuple[tuple[str, int], Mapping[str, Any]]]:
    """Pair each standard of a unit with its slot (criterion, n-th occurrence) so that none is dropped."""
    seen: dict[str, int] = {}
    slots = []
    for standard in unit.get("standards") or []:
        criterion = str(standard.get("criterion") or standard.get("rule") or "?")
        occurrence = seen.get(criterion, 0)
        seen[criterion] = occurrence + 1
        slots.append(((criterion, occurrence), standard))
    return slots


def _criterion_label(criterion: str, lang: str) -> str:
    return _CRITERION_LABELS[lang].get(criterion, criterion)


def _unit_label(unit: str | None, lang: str) -> str:
    unit = unit or ""
    return _UNIT_LABELS_EN.get(unit, unit) if lang == "en" else unit


def _format_for_unit(unit: str | None) -> str:
    return {"km²": KM2_FORMAT, "người": PEOPLE_FORMAT, "%": PERCENT_FORMAT, "đơn vị": INTEGER_FORMAT,
            "người/km²": DENSITY_FORMAT}.get(unit or "", NUMBER_FORMAT)


def _annex_columns(evaluation: Mapping[str, Any], lang: str
                   ) -> tuple[list[_Column], list[tuple[tuple[str, int], list[_Column]]]]:
    """Fixed columns, then three columns for every criterion slot present in any new unit."""
    t = _texts(lang)
    area = t["area_group"]
    before = [
        _Column(None, t["stt"], INTEGER_FORMAT, 5),
        _Column(None, t["new_unit_id"], TEXT_FORMAT, 9),
        _Column(None, t["name"], None, 24, wrap=True),
        _Column(None, t["kind"], None, 9),
        _Column(None, t["member_codes"], TEXT_FORMAT, 14, wrap=True),
        _Column(None, t["members"], None, 34, wrap=True),
        _Column(area, t["official_area"], KM2_FORMAT, 11),
        _Column(area, t["computed_area"], KM2_FORMAT, 12, wrap=True),
        _Column(area, t["area_difference"], PERCENT_FORMAT, 10),
        _Column(None, t["population"], PEOPLE_FORMAT, 12, wrap=True),
        _Column(None, t["density"], DENSITY_FORMAT, 12, wrap=True),
    ]
    slot_units: dict[tuple[str, int], str | None] = {}
    for unit in _new_units(evaluation):
        for slot, standard in _criterion_slots(unit):
            slot_units.setdefault(slot, standard.get("unit"))
    per_criterion = []
    for (criterion, occurrence), unit_of_measure in slot_units.items():
        label = _criterion_label(criterion, lang)
        group = t["standard_group"].format(criterion=label)
        if occurrence:
            group += f" ({occurrence + 1})"
        per_criterion.append(((criterion, occurrence), [
            _Column(group, t["threshold"].format(unit=_unit_label(unit_of_measure, lang)),
                    _format_for_unit(unit_of_measure), 11, wrap=True),
            _Column(group, t["percent_of_standard"], PERCENT_FORMAT, 11, wrap=True),
            _Column(group, t["result"], None, 13, wrap=True),
        ]))
    return before, per_criterion


def _after_columns(lang: str) -> list[_Column]:
    t = _texts(lang)
    return [
        _Column(None, t["conclusion"], None, 12, wrap=True),
        _Column(None, t["sources"], None, 30, wrap=True),
        _Column(None, t["notes"], None, 30, wrap=True),
    ]


def _all_columns(evaluation: Mapping[str, Any], lang: str) -> list[_Column]:
    before, per_criterion = _annex_columns(evaluation, lang)
    return before + [c for _, cols in per_criterion for c in cols] + _after_columns(lang)


def _number(value: Any) -> int | float | None:
    """A finite number (ints stay ints, integral population floats become ints) or None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"expected a number in the evaluation, got {value!r}",
                         hint="pass the evaluation JSON unchanged") from None
    if math.isnan(number) or math.isinf(number):
        return None
    if isinstance(value, int):
        return value
    return number


def _count(value: Any) -> int | float | None:
    """People and unit counts: shown as integers when they are whole numbers."""
    number = _number(value)
    if isinstance(number, float) and number.is_integer():
        return int(number)
    return number


def _kind_label(kind: Any, lang: str, kind_vi: str | None = None) -> str | None:
    if kind is None:
        return None
    try:
        parsed = UnitKind.parse(kind)
    except InputError:
        return str(kind)  # a kind this version does not know is shown as it came, not guessed
    if lang == "en":
        return _KIND_LABELS_EN[parsed]
    return kind_vi or parsed.label_vi


def _parent_kind_label(kind: Any, lang: str) -> str:
    if not kind:
        return ""
    try:
        parsed = ParentKind.parse(kind)
    except InputError:
        return str(kind)
    return parsed.label_vi if lang == "vi" else parsed.value.replace("_", " ")


def _regime(evaluation: Mapping[str, Any]) -> str:
    return str((evaluation.get("scenario") or {}).get("regime") or "")


def _result_label(standard: Mapping[str, Any], regime: str, t: Mapping[str, str]) -> str:
    if standard.get("exempt"):
        return t["exempt_r76"] if regime == "R76" else t["exempt"]
    passed = standard.get("passed")
    if passed is None:
        return t["no_data"]
    return t["pass"] if passed else t["fail"]


def _conclusion_label(status: Any, regime: str, t: Mapping[str, str]) -> str:
    labels = {"pass": t["pass"], "fail": t["fail"], "exempt": t["exempt_r76"] if regime == "R76" else t["exempt"]}
    return labels.get(status, "" if status is None else str(status))


def _members_text(unit: Mapping[str, Any]) -> str:
    codes = [str(code) for code in unit.get("members") or []]
    names = list(unit.get("member_names") or [])
    if len(names) != len(codes):
        return "; ".join(codes)
    return "; ".join(f"{name} ({code})" for name, code in zip(names, codes))


def _sources_text(unit: Mapping[str, Any], t: Mapping[str, str]) -> str:
    area = t["area_official"] if unit.get("area_basis") == "official" else t["area_computed"]
    source = unit.get("population_source")
    population = t["population_source"].format(source=source) if source else t["population_unknown"]
    return f"{area}; {population}"


def _notes_text(unit: Mapping[str, Any], lang: str, t: Mapping[str, str]) -> str:
    notes = []
    difference = _number(unit.get("area_difference_pct"))
    if unit.get("area_differs") and difference is not None:
        notes.append(t["area_differs"].format(pct=f"{difference:+.1f} %"))
    if unit.get("contiguous") is False:
        notes.append(t["not_contiguous"].format(parts=len(unit.get("components") or []) or "≥ 2"))
    if unit.get("drawn"):
        notes.append(t["drawn"])
    if unit.get("population_is_estimate"):
        notes.append(t["population_estimate"])
    if unit.get("missing_population"):
        notes.append(t["missing_population"].format(codes=", ".join(map(str, unit["missing_population"]))))
    for standard in unit.get("standards") or []:
        if standard.get("confirmed") is False:
            label = _criterion_label(str(standard.get("criterion")), lang)
            notes.append(t["unconfirmed_standard"].format(criterion=label))
        if standard.get("note"):
            notes.append(str(standard["note"]))
    return "; ".join(notes)


def evaluation_to_rows(evaluation: dict, *, lang: str = "vi") -> list[dict]:
    """One flat row per new unit, keyed by the column header in ``lang`` (the CSV header, in annex order).

    Numbers are ``int``/``float`` or ``None`` when missing; codes and labels are ``str``. The keys of a
    two-level XLSX header are joined with " – ", e.g. ``"Diện tích tự nhiên (km²) – Chính thức"``.
    """
    t = _texts(lang)
    regime = _regime(evaluation)
    before, per_criterion = _annex_columns(evaluation, lang)
    after = _after_columns(lang)
    rows = []
    for index, unit in enumerate(_new_units(evaluation), start=1):
        values: list[Any] = [
            index,
            None if unit.get("id") is None else str(unit["id"]),
            unit.get("name"),
            _kind_label(unit.get("kind"), lang, unit.get("kind_vi")),
            ";".join(str(code) for code in unit.get("members") or []),
            _members_text(unit),
            _number(unit.get("official_area_km2")),
            _number(unit.get("area_km2")),
            _number(unit.get("area_difference_pct")),
            _count(unit.get("population")),
            _number(unit.get("density")),
        ]
        standards = dict(_criterion_slots(unit))
        for slot, columns in per_criterion:
            standard = standards.get(slot)
            if standard is None:
                values += [None, None, None]
                continue
            threshold = _count(standard.get("threshold")) if columns[0].number_format in (
                PEOPLE_FORMAT, INTEGER_FORMAT) else _number(standard.get("threshold"))
            values += [threshold, _number(standard.get("percent_of_standard")), _result_label(standard, regime, t)]
        values += [
            _conclusion_label(unit.get("status"), regime, t),
            _sources_text(unit, t),
            _notes_text(unit, lang, t),
        ]
        columns = before + [c for _, cols in per_criterion for c in cols] + after
        rows.append(dict(zip((c.key for c in columns), values, strict=True)))
    return rows


def _total_values(evaluation: Mapping[str, Any]) -> dict[str, int | float | None]:
    """Sums over the new units shown (a total row must add up to the rows above it)."""
    units = _new_units(evaluation)

    def total(field: str) -> float | None:
        values = [_number(unit.get(field)) for unit in units]
        if not values or any(value is None for value in values):
            return None  # a partial sum would pass for a complete one
        return sum(values)

    population = total("population")
    area_for_standards = total("area_for_standards_km2")
    density = population / area_for_standards if population is not None and area_for_standards else None
    return {
        "official_area_km2": total("official_area_km2"),
        "area_km2": total("area_km2"),
        "population": _count(population),
        "density": density,
    }


# --------------------------------------------------------------------------------------------- file helpers

@contextlib.contextmanager
def _atomic_path(path: str | os.PathLike, suffix: str) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it over ``path`` only when the block succeeds."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=f".tmp{suffix}", dir=target.parent)
    os.close(handle)
    temporary_path = Path(temporary)
    temporary_path.unlink()  # GDAL drivers refuse to open an existing empty file as a new dataset
    try:
        yield temporary_path
        os.replace(temporary_path, target)
    finally:
        temporary_path.unlink(missing_ok=True)


def _is_path(path_or_buffer: Any) -> bool:
    return isinstance(path_or_buffer, (str, os.PathLike))


def _write_bytes(data: bytes, path_or_buffer: Any, suffix: str) -> None:
    if _is_path(path_or_buffer):
        with _atomic_path(path_or_buffer, suffix) as temporary:
            temporary.write_bytes(data)
    elif isinstance(path_or_buffer, io.TextIOBase):
        path_or_buffer.write(data.decode("utf-8"))
    else:
        path_or_buffer.write(data)


#: First characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(value: Any) -> Any:
    """A text cell that no spreadsheet runs: text starting with ``= + - @`` tab or CR gets a
    leading apostrophe (the OWASP rule); numbers and other values are returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _csv_bytes(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """UTF-8 with a BOM (Excel then reads Vietnamese correctly), dot decimals, missing values empty;
    text that a spreadsheet would run as a formula is neutralised (:func:`spreadsheet_text`)."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow([spreadsheet_text(value) for value in header])
    for row in rows:
        writer.writerow(["" if value is None else spreadsheet_text(value) for value in row])
    return text.getvalue().encode("utf-8-sig")


def _cells_as_text(workbook) -> None:
    """Every text cell stays text: openpyxl stores a string starting with ``=`` as a live formula.

    The annex writes no formula of its own, so any cell typed as a formula came from user text
    (a unit or scenario name); it is typed back to text and shown with a quote prefix, as are texts
    starting with ``+ - @`` that Excel would otherwise turn into a formula when the cell is edited.
    """
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f" or (isinstance(cell.value, str) and cell.value.startswith(FORMULA_TRIGGERS)):
                    cell.data_type = "s"
                    cell.quotePrefix = True


def write_table_csv(evaluation: dict, path_or_buffer, *, lang: str = "vi") -> None:
    """Write the area & density table as CSV: one row per new unit, columns as :func:`evaluation_to_rows`.

    UTF-8 with BOM; numbers plain with a dot decimal; codes as text (read them back with ``dtype=str``).
    ``path_or_buffer`` is a path (written atomically) or a text or binary file object.
    """
    columns = _all_columns(evaluation, lang)
    rows = evaluation_to_rows(evaluation, lang=lang)
    _write_bytes(_csv_bytes([c.key for c in columns], [[row[c.key] for c in columns] for row in rows]),
                 path_or_buffer, ".csv")


# --------------------------------------------------------------------------------------------- crosswalk

def _units_by_code(units) -> dict[str, Mapping[str, Any]]:
    if units is None:
        return {}
    geometry_name = getattr(units, "_geometry_column_name", None)
    frame = units[[name for name in units.columns if name != geometry_name]]
    if "code" in frame.columns:
        codes = frame["code"]
    else:
        codes = frame.index
    records = frame.to_dict(orient="records")
    return {str(code): record for code, record in zip(codes, records)}


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def crosswalk_rows(evaluation: dict, units=None) -> list[dict]:
    """Old→new table: one row per former unit that a new unit is made of, in scenario order.

    Keys: ``old_code`` (str, leading zeros kept), ``old_name``, ``old_kind`` (UnitKind value),
    ``district``, ``new_unit_id``, ``new_unit_name``, ``new_kind``, ``share`` ("toàn bộ" when the old
    unit moves whole, "một phần" for a part cut by a drawn boundary or a member that lost one),
    ``area_share`` and ``population_share`` (fractions of the old unit). (The writers also accept the rows of
    ``Evaluation.crosswalk()``, which name the new unit ``new_name``.) ``units`` (``UnitSet.gdf`` or any
    DataFrame with a ``code`` column or a code index) supplies names, kinds and districts; without it,
    names come from the evaluation's ``member_names`` and kind/district are ``None``.
    """
    by_code = _units_by_code(units)
    rows = []
    for unit in _new_units(evaluation):
        codes = [str(code) for code in unit.get("members") or []]
        names = list(unit.get("member_names") or [])
        reduced = {str(code) for code in unit.get("reduced_members") or []}
        shares = unit.get("member_shares") or {}
        parts = {str(part["code"]): part for part in unit.get("parts") or []}
        for position, code in enumerate(codes + list(parts)):
            record = by_code.get(code)
            if units is not None and record is None:
                raise MissingColumnError(
                    f"former unit {code} of new unit {unit.get('id')!r} is not in the units table",
                    hint="pass the units layer the scenario was evaluated on",
                    context={"unit_code": code, "new_unit_id": unit.get("id")},
                )
            record = record or {}
            part = parts.get(code) if position >= len(codes) else None
            fallback_name = (part or {}).get("name") if part else (names[position] if len(names) == len(codes)
                                                                   else None)
            whole = part is None and code not in reduced
            rows.append({
                "old_code": code,
                "old_name": _clean(record.get("name", fallback_name)),
                "old_kind": _clean(record.get("kind")),
                "district": _clean(record.get("district")),
                "new_unit_id": None if unit.get("id") is None else str(unit["id"]),
                "new_unit_name": unit.get("name"),
                "new_kind": unit.get("kind"),
                "share": "toàn bộ" if whole else "một phần",
                "area_share": 1.0 if whole else (part or shares.get(code, {})).get("area_share"),
                "population_share": 1.0 if whole else (part or shares.get(code, {})).get("population_share"),
            })
    return rows


def _crosswalk_table(rows: Sequence[Mapping[str, Any]], lang: str) -> tuple[list[str], list[list[Any]]]:
    t = _texts(lang)
    header = [t[key] for key in CROSSWALK_KEYS]
    body = []
    for row in rows:
        values = [_clean(row.get(key)) for key in CROSSWALK_KEYS]
        if values[5] is None:
            values[5] = row.get("new_name")  # the key Evaluation.crosswalk() uses
        values[2] = _kind_label(values[2], lang)
        values[6] = _kind_label(values[6], lang)
        values[0] = None if values[0] is None else str(values[0])
        body.append(values)
    return header, body


def write_crosswalk_csv(evaluation: dict, units, path_or_buffer, *, lang: str = "vi") -> None:
    """Write the old→new crosswalk (:func:`crosswalk_rows`) as CSV, UTF-8 with BOM, kinds as labels in ``lang``.

    Columns: old code (text), old name, old kind, district, new unit id, new unit name, new kind.
    """
    header, body = _crosswalk_table(crosswalk_rows(evaluation, units), lang)
    _write_bytes(_csv_bytes(header, body), path_or_buffer, ".csv")


# --------------------------------------------------------------------------------------------- XLSX annex

def write_annex_xlsx(evaluation: dict, path, *, lang: str = "vi", title: str | None = None,
                     units_crosswalk: list[dict] | None = None) -> None:
    """Write the annex workbook: sheet "Phụ lục" ("Annex") and, when given, "Bảng chuyển đổi" ("Crosswalk").

    The annex has title rows (title, scenario, parent, regime with a warning when the rule set is not
    confirmed), a two-level merged header, one row per new unit, a total row, the parent block (units
    by kind, share of wards, parent standards) and footnotes citing every rule. Numbers are numeric
    cells with display formats (km² ``#,##0.00``, people ``#,##0``, % ``0.0``); codes are text cells
    (``@``). ``units_crosswalk`` takes the rows of :func:`crosswalk_rows`. ``path`` may also be a
    binary file object.
    """
    from openpyxl import Workbook

    t = _texts(lang)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = t["sheet_annex"]
    _AnnexSheet(sheet, evaluation, lang, title).write()
    if units_crosswalk is not None:
        _write_crosswalk_sheet(workbook.create_sheet(t["sheet_crosswalk"]), units_crosswalk, lang)
    _cells_as_text(workbook)
    if _is_path(path):
        with _atomic_path(path, ".xlsx") as temporary:
            workbook.save(temporary)
    else:
        workbook.save(path)


class _AnnexSheet:
    """Lays out the annex sheet row by row (kept in one place so row positions stay consistent)."""

    def __init__(self, sheet, evaluation: Mapping[str, Any], lang: str, title: str | None):
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

        self.sheet = sheet
        self.evaluation = evaluation
        self.lang = lang
        self.t = _texts(lang)
        self.title = title or self.t["title"]
        self.columns = _all_columns(evaluation, lang)
        self.rows = evaluation_to_rows(evaluation, lang=lang)
        thin = Side(style="thin")
        self.border = Border(left=thin, right=thin, top=thin, bottom=thin)
        self.bold = Font(bold=True)
        self.header_fill = PatternFill("solid", fgColor="DDEBF7")
        self.Alignment = Alignment
        self.Font = Font

    @property
    def width(self) -> int:
        return len(self.columns)

    def write(self) -> None:
        row = self._write_title(1)
        header_row = row + 1
        first_data_row = self._write_header(header_row)
        total_row = self._write_units(first_data_row)
        self._write_total(total_row)
        row = self._write_parent_block(total_row + 2)
        self._write_footnotes(row + 1)
        self._page_setup(header_row, first_data_row)

    # -- pieces

    def _merged_line(self, row: int, text: str, *, font=None, height: float | None = None) -> None:
        cell = self.sheet.cell(row=row, column=1, value=text)
        self.sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=self.width)
        cell.alignment = self.Alignment(horizontal="center", vertical="center", wrap_text=True)
        if font is not None:
            cell.font = font
        if height:
            self.sheet.row_dimensions[row].height = height

    def _write_title(self, row: int) -> int:
        scenario = self.evaluation.get("scenario") or {}
        self._merged_line(row, self.title, font=self.Font(bold=True, size=13), height=36)
        row += 1
        if scenario.get("name"):
            self._merged_line(row, self.t["scenario"].format(name=scenario["name"]), font=self.Font(italic=True))
            row += 1
        parent = (self.evaluation.get("totals") or {}).get("parent") or {}
        if parent.get("name"):
            kind = _parent_kind_label(parent.get("kind"), self.lang)
            self._merged_line(row, self.t["parent"].format(name=parent["name"], kind=kind))
            row += 1
        regime_name = scenario.get("regime_name") or scenario.get("regime")
        if regime_name:
            text = self.t["regime"].format(regime_name=regime_name)
            unconfirmed = scenario.get("confirmed") is False
            if unconfirmed:
                text += self.t["unconfirmed_regime"]
            self._merged_line(row, text, font=self.Font(bold=unconfirmed, color="C00000" if unconfirmed else None))
            row += 1
        return row  # one blank row follows

    def _write_header(self, row: int) -> int:
        sheet = self.sheet
        alignment = self.Alignment(horizontal="center", vertical="center", wrap_text=True)
        index = 0
        while index < self.width:
            column = self.columns[index]
            if column.group is None:
                sheet.cell(row=row, column=index + 1, value=column.label)
                sheet.merge_cells(start_row=row, start_column=index + 1, end_row=row + 1, end_column=index + 1)
                index += 1
                continue
            span = 1
            while index + span < self.width and self.columns[index + span].group == column.group:
                span += 1
            sheet.cell(row=row, column=index + 1, value=column.group)
            if span > 1:
                sheet.merge_cells(start_row=row, start_column=index + 1, end_row=row, end_column=index + span)
            for offset in range(span):
                sheet.cell(row=row + 1, column=index + offset + 1, value=self.columns[index + offset].label)
            index += span
        for header_row in (row, row + 1):
            for position in range(1, self.width + 1):
                cell = sheet.cell(row=header_row, column=position)
                cell.font = self.bold
                cell.alignment = alignment
                cell.border = self.border
                cell.fill = self.header_fill
        sheet.row_dimensions[row].height = 30
        sheet.row_dimensions[row + 1].height = 45
        for position, column in enumerate(self.columns, start=1):
            sheet.column_dimensions[_column_letter(position)].width = column.width
        return row + 2

    def _data_cell(self, row: int, position: int, column: _Column, value: Any):
        cell = self.sheet.cell(row=row, column=position, value=value)
        cell.border = self.border
        if column.number_format:
            cell.number_format = column.number_format
        horizontal = "left" if column.number_format in (None, TEXT_FORMAT) else "right"
        if column.number_format == INTEGER_FORMAT:
            horizontal = "center"
        cell.alignment = self.Alignment(horizontal=horizontal, vertical="top", wrap_text=column.wrap)
        return cell

    def _write_units(self, row: int) -> int:
        for values in self.rows:
            for position, column in enumerate(self.columns, start=1):
                self._data_cell(row, position, column, values[column.key])
            row += 1
        return row

    def _write_total(self, row: int) -> None:
        t = self.t
        totals = _total_values(self.evaluation)
        by_key = {
            t["name"]: t["total"],
            f"{t['area_group']} – {t['official_area']}": totals["official_area_km2"],
            f"{t['area_group']} – {t['computed_area']}": totals["area_km2"],
            t["population"]: totals["population"],
            t["density"]: totals["density"],
        }
        for position, column in enumerate(self.columns, start=1):
            cell = self._data_cell(row, position, column, by_key.get(column.key))
            cell.font = self.bold

    def _block_row(self, row: int, values: Sequence[Any], formats: Sequence[str | None], *, bold=False) -> None:
        # The block starts in the (wide) unit-name column and uses the columns to its right.
        for offset, (value, number_format) in enumerate(zip(values, formats)):
            cell = self.sheet.cell(row=row, column=3 + offset, value=value)
            cell.border = self.border
            if number_format:
                cell.number_format = number_format
            cell.alignment = self.Alignment(vertical="top", wrap_text=True,
                                            horizontal="center" if bold else None)
            if bold:
                cell.font = self.bold

    def _write_parent_block(self, row: int) -> int:
        t = self.t
        totals = self.evaluation.get("totals") or {}
        parent = totals.get("parent") or {}
        if parent.get("name"):
            heading = t["parent_heading"].format(name=str(parent["name"]).upper(),
                                                 kind=_parent_kind_label(parent.get("kind"), self.lang))
        else:
            heading = t["summary_heading"]
        self.sheet.cell(row=row, column=3, value=heading).font = self.bold
        row += 1
        header = [t["indicator"], t["before"], t["after"], t["standard"],
                  t["percent_of_standard"], t["result"], t["citation"]]
        self._block_row(row, header, [None] * len(header), bold=True)
        row += 1
        count_formats = [None, INTEGER_FORMAT, INTEGER_FORMAT, None, None, None, None]
        if totals.get("units_before") is not None or totals.get("units_after") is not None:
            self._block_row(row, [t["units_count"], _count(totals.get("units_before")),
                                  _count(totals.get("units_after"))], count_formats)
            row += 1
        kinds_before = totals.get("by_kind_before") or {}
        kinds_after = totals.get("by_kind_after") or {}
        for kind in list(dict.fromkeys([*kinds_before, *kinds_after])):
            label = t["units_of_kind"].format(kind=_kind_label(kind, self.lang))
            self._block_row(row, [label, _count(kinds_before.get(kind, 0)), _count(kinds_after.get(kind, 0))],
                            count_formats)
            row += 1
        if totals.get("ward_share_before") is not None or totals.get("ward_share_after") is not None:
            def percent(share: Any) -> float | None:
                share = _number(share)
                return None if share is None else share * 100.0  # the contract gives a fraction
            self._block_row(row, [t["ward_share"], percent(totals.get("ward_share_before")),
                                  percent(totals.get("ward_share_after"))],
                            [None, PERCENT_FORMAT, PERCENT_FORMAT])
            row += 1
        regime = _regime(self.evaluation)
        for standard in parent.get("standards") or []:
            unit = standard.get("unit")
            label = _criterion_label(str(standard.get("criterion")), self.lang)
            label = label[:1].upper() + label[1:]
            if unit:
                label += f" ({_unit_label(unit, self.lang)})"
            value_format = _format_for_unit(unit)
            citation = standard.get("citation") or ""
            if standard.get("confirmed") is False:
                citation += self.t["note_rule_unconfirmed"]
            self._block_row(
                row,
                [label, None, _number(standard.get("value")), _number(standard.get("threshold")),
                 _number(standard.get("percent_of_standard")), _result_label(standard, regime, t), citation],
                [None, value_format, value_format, value_format, PERCENT_FORMAT, None, None],
            )
            row += 1
        return row

    def _footnotes(self) -> list[str]:
        t = self.t
        notes = [t["note_geodesic"], t["note_density"]]
        rules: dict[str, Mapping[str, Any]] = {}
        for unit in _new_units(self.evaluation):
            for standard in unit.get("standards") or []:
                rules.setdefault(str(standard.get("rule")), standard)
        parent = (self.evaluation.get("totals") or {}).get("parent") or {}
        for standard in parent.get("standards") or []:
            rules.setdefault(str(standard.get("rule")), standard)
        for rule, standard in rules.items():
            text = t["note_rule"].format(criterion=_criterion_label(str(standard.get("criterion")), self.lang),
                                         rule=rule, citation=standard.get("citation") or "?")
            if standard.get("confirmed") is False:
                text += t["note_rule_unconfirmed"]
            notes.append(text)
        if _regime(self.evaluation) == "R76":
            statuses = {unit.get("status") for unit in _new_units(self.evaluation)}
            if "exempt" in statuses:
                notes.append(t["note_exempt_r76"])
            if "fail" in statuses:
                notes.append(t["note_fail_r76"])
        notes += [t["note_warning"].format(warning=warning) for warning in self.evaluation.get("warnings") or []]
        return notes

    def _write_footnotes(self, row: int) -> None:
        self.sheet.cell(row=row, column=1, value=self.t["footnotes"]).font = self.Font(bold=True, italic=True)
        characters_per_line = max(40, int(sum(c.width for c in self.columns) * 1.1))
        for number, note in enumerate(self._footnotes(), start=1):
            row += 1
            cell = self.sheet.cell(row=row, column=1, value=f"({number}) {note}")
            self.sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=self.width)
            cell.alignment = self.Alignment(wrap_text=True, vertical="top")
            cell.font = self.Font(italic=True, size=10)
            # Excel does not grow merged rows to fit wrapped text, so size them from the text length.
            lines = math.ceil(len(cell.value) / characters_per_line)
            self.sheet.row_dimensions[row].height = 14 * max(1, lines)

    def _page_setup(self, header_row: int, first_data_row: int) -> None:
        sheet = self.sheet
        sheet.freeze_panes = sheet.cell(row=first_data_row, column=4)  # keep STT, id and name in view
        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        sheet.print_title_rows = f"{header_row}:{header_row + 1}"
        sheet.page_margins.left = sheet.page_margins.right = 0.4
        sheet.page_margins.top = sheet.page_margins.bottom = 0.5
        sheet.print_options.horizontalCentered = True


def _column_letter(position: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(position)


def _write_crosswalk_sheet(sheet, rows: Sequence[Mapping[str, Any]], lang: str) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    header, body = _crosswalk_table(rows, lang)
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    text_columns = {0, 4}  # old code, new unit id
    for values in body:
        sheet.append(values)
        for index in text_columns:
            sheet.cell(row=sheet.max_row, column=index + 1).number_format = TEXT_FORMAT
    for position, width in enumerate((12, 26, 12, 22, 12, 26, 12), start=1):
        sheet.column_dimensions[_column_letter(position)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{_column_letter(len(header))}{max(1, sheet.max_row)}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True


# --------------------------------------------------------------------------------------------- GIS files

def _standards_summary(standards: Any) -> str | None:
    if not isinstance(standards, (list, tuple)):
        return None
    parts = []
    for standard in standards:
        if standard.get("exempt"):
            outcome = "exempt"
        elif standard.get("passed") is None:
            outcome = "no data"
        else:
            outcome = "pass" if standard.get("passed") else "fail"
        percent = _number(standard.get("percent_of_standard"))
        share = "" if percent is None else f" {percent:.1f}%"
        parts.append(f"{standard.get('criterion') or standard.get('rule')}: {outcome}{share}")
    return "; ".join(parts)


def _flat_value(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return ";".join(str(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def _flattened(new_units):
    """A copy whose attribute columns GIS formats can store: lists joined with ';', dicts as JSON text."""
    if new_units.crs is None:
        raise MissingCRSError("the new units have no CRS", hint="set it: new_units.set_crs(4326)")
    flat = new_units.copy()
    geometry_name = flat.geometry.name
    for name in list(flat.columns):
        if name == geometry_name or flat[name].dtype != object:
            continue
        if name == "standards":
            flat[name] = flat[name].map(_standards_summary)
        else:
            flat[name] = flat[name].map(_flat_value)
    return flat


def write_new_units_gpkg(new_units, path, *, layer: str = "new_units") -> None:
    """Write the new units to a GeoPackage layer, atomically (temporary file, then ``os.replace``).

    ``members`` lists become "01840;01834"; a ``standards`` column becomes a summary such as
    "area: pass 220.0%; population: fail 82.0%". The CRS is kept as given (EPSG:4326 by contract).
    """
    flat = _flattened(new_units)
    with _atomic_path(path, ".gpkg") as temporary:
        flat.to_file(temporary, driver="GPKG", layer=layer, engine="pyogrio")


def write_new_units_geojson(new_units, path_or_buffer) -> None:
    """Write the new units as RFC 7946 GeoJSON: EPSG:4326, counter-clockwise outer rings, 7 decimals.

    Attribute columns are flattened as in :func:`write_new_units_gpkg`. ``path_or_buffer`` is a path
    (written atomically) or a binary or text file object.
    """
    import pyogrio

    flat = _flattened(new_units).to_crs(4326)
    buffer = io.BytesIO()
    pyogrio.write_dataframe(flat, buffer, driver="GeoJSON", layer="new_units",
                            RFC7946="YES", COORDINATE_PRECISION=GEOJSON_DECIMALS)
    _write_bytes(buffer.getvalue(), path_or_buffer, ".geojson")
