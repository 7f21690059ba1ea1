"""The old→new crosswalk: one row per former unit a new unit is made of (CSV, and a sheet of the annex)."""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from ..contract import EvaluationReport
from ..errors import MissingColumnError
from ..i18n import catalogue, format_number
from .files import column_letter, csv_bytes, write_bytes
from .table import PERCENT_FORMAT, TEXT_FORMAT, as_report, kind_label, number, shown, texts

CROSSWALK_KEYS = ("old_code", "old_name", "old_kind", "district", "new_unit_id", "new_unit_name", "new_kind",
                  "share", "area_share", "population_share")
# The crosswalk a person reads: the new unit by name (its internal id n1, n2… means nothing to a reader).
_SHOWN = ("old_code", "old_name", "old_kind", "district", "new_unit_name", "new_kind",
          "share", "area_share", "population_share")
_SHARE_KEYS = {"toàn bộ": "crosswalk.whole", "một phần": "crosswalk.part"}
_PERCENT_COLUMNS = (_SHOWN.index("area_share"), _SHOWN.index("population_share"))


def _units_by_code(units) -> dict[str, Mapping[str, Any]]:
    if units is None:
        return {}
    geometry_name = getattr(units, "_geometry_column_name", None)
    frame = units[[name for name in units.columns if name != geometry_name]]
    codes = frame["code"] if "code" in frame.columns else frame.index
    records = frame.to_dict(orient="records")
    return {str(code): record for code, record in zip(codes, records)}


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def crosswalk_rows(evaluation: EvaluationReport | Mapping[str, Any], units=None) -> list[dict]:
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
    for unit in as_report(evaluation).new_units:
        codes = list(unit.members)
        names = list(unit.member_names)
        reduced = set(unit.reduced_members)
        parts = {part.code: part for part in unit.parts}
        for position, code in enumerate(codes + list(parts)):
            record = by_code.get(code)
            if units is not None and record is None:
                raise MissingColumnError(
                    f"former unit {code} of new unit {unit.name!r} is not in the units table",
                    hint="pass the units layer the scenario was evaluated on",
                    context={"unit_code": code, "new_unit_id": unit.id},
                )
            record = record or {}
            part = parts.get(code) if position >= len(codes) else None
            fallback_name = part.name if part else (names[position] if len(names) == len(codes) else None)
            whole = part is None and code not in reduced
            share = part or unit.member_shares.get(code)
            rows.append({
                "old_code": code,
                "old_name": _clean(record.get("name", fallback_name)),
                "old_kind": _clean(record.get("kind")),
                "district": _clean(record.get("district")),
                "new_unit_id": unit.id,
                "new_unit_name": unit.name,
                "new_kind": unit.kind.value,
                "share": "toàn bộ" if whole else "một phần",
                "area_share": 1.0 if whole else (share.area_share if share else None),
                "population_share": 1.0 if whole else (share.population_share if share else None),
            })
    return rows


def crosswalk_table(rows: Sequence[Mapping[str, Any]], lang: str) -> tuple[list[str], list[list[Any]]]:
    """Header and body of the crosswalk a person reads, in ``lang`` (shares in %)."""
    t = texts(lang)
    header = [t[key] for key in _SHOWN]
    body = []
    for row in rows:
        values = dict(zip(CROSSWALK_KEYS, (_clean(row.get(key)) for key in CROSSWALK_KEYS)))
        if values["new_unit_name"] is None:
            values["new_unit_name"] = row.get("new_name")  # the key Evaluation.crosswalk() uses
        values["old_kind"] = kind_label(values["old_kind"], lang)
        values["new_kind"] = kind_label(values["new_kind"], lang)
        values["old_code"] = None if values["old_code"] is None else str(values["old_code"])
        share_key = _SHARE_KEYS.get(values["share"])
        values["share"] = catalogue(lang)[share_key] if share_key else values["share"]
        for key in ("area_share", "population_share"):  # fractions, shown as % like the annex
            fraction = number(values[key])
            values[key] = None if fraction is None else shown(100.0 * fraction, PERCENT_FORMAT)
        body.append([values[key] for key in _SHOWN])
    return header, body


def write_crosswalk_csv(evaluation: EvaluationReport | Mapping[str, Any], units, path_or_buffer, *,
                        lang: str = "vi") -> None:
    """Write the old→new crosswalk (:func:`crosswalk_rows`) as CSV, UTF-8 with BOM, kinds as labels in ``lang``.

    Columns: old code (text), old name, old kind, district, new unit name, new kind, whole or part, shares of
    area and population moved (%). Vietnamese numbers are written the Vietnamese way, as in the annex CSV.
    """
    header, body = crosswalk_table(crosswalk_rows(evaluation, units), lang)
    if lang == "vi":
        body = [[format_number(v, 1, lang) if i in _PERCENT_COLUMNS and v is not None else v
                 for i, v in enumerate(row)] for row in body]
    write_bytes(csv_bytes(header, body), path_or_buffer, ".csv")


def write_crosswalk_sheet(sheet, rows: Sequence[Mapping[str, Any]], lang: str) -> None:
    """The crosswalk as a sheet of the annex workbook (header row, filters, codes as text, % shares)."""
    from openpyxl.styles import Alignment, Font, PatternFill

    header, body = crosswalk_table(rows, lang)
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for values in body:
        sheet.append(values)
        sheet.cell(row=sheet.max_row, column=1).number_format = TEXT_FORMAT  # old code
        for index in _PERCENT_COLUMNS:
            sheet.cell(row=sheet.max_row, column=index + 1).number_format = PERCENT_FORMAT
    for position, width in enumerate((12, 26, 12, 22, 26, 12, 14, 14, 16), start=1):
        sheet.column_dimensions[column_letter(position)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{column_letter(len(header))}{max(1, sheet.max_row)}"
    landscape_a4(sheet)


def landscape_a4(sheet) -> None:
    """Print setup of every sheet of the annex: A4 landscape, fit to the page width."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
