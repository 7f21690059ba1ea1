"""The "Chỉ tiêu quy hoạch" sheet of the annex: zoning indicators per new unit.

The indicators (``layers.indicators.compute_indicators`` over ``Evaluation.new_units_gdf()``, indexed by
new-unit id; the figures of ``GET /api/indicators?scenario=…``) are written one row per new unit, in the
annex's order: number of industrial clusters, their area (km²) and share of the unit's area (%), tourism
sites (all, national, provincial), night streets and their length (km). Headers come from the language
catalogue (``metric.*``, with the unit of measure); figures are rounded as shown; a last line names the
layers used.
"""
from __future__ import annotations

import math
from typing import Any

from ..contract import EvaluationReport
from ..i18n import catalogue, translate
from .crosswalk import landscape_a4
from .files import column_letter
from .table import INTEGER_FORMAT, KM2_FORMAT, PERCENT_FORMAT, kind_label, shown, texts


def indicator_format(name: str) -> str:
    """The display format of an indicator column, from the unit in its name."""
    if name.endswith("_pct"):
        return PERCENT_FORMAT
    if name.endswith(("_km2", "_km")):
        return KM2_FORMAT  # two decimals: km² and km
    return INTEGER_FORMAT  # counts


def zoning_table(report: EvaluationReport, indicators, lang: str) -> tuple[list[str], list[list[Any]], list[str]]:
    """Header, one row per new unit (figures rounded as shown) and the number format of each column."""
    t = texts(lang)
    words = catalogue(lang)
    columns = [name for name in indicators.columns if name != "source"]
    header = [t["stt"], t["name"], t["kind"], *[words.get(f"metric.{name}", name) for name in columns]]
    formats = [INTEGER_FORMAT, None, None, *[indicator_format(name) for name in columns]]
    index = {str(key): position for position, key in enumerate(indicators.index)}
    rows = []
    for number, unit in enumerate(report.new_units, start=1):
        position = index.get(unit.id)
        values = [None if position is None else _finite(indicators[name].iloc[position]) for name in columns]
        rows.append([number, unit.name, kind_label(unit.kind, lang),
                     *[shown(value, indicator_format(name)) for name, value in zip(columns, values)]])
    return header, rows, formats


def _finite(value: Any) -> float | None:
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value


def source_line(indicators, lang: str) -> str | None:
    """Where the figures come from (the zoning layers and their feature counts), in ``lang``."""
    message = getattr(indicators, "attrs", {}).get("source_message")
    if message is None:
        return None
    return f"{catalogue(lang)['metric.source']}: {translate(message, lang)}"


def write_zoning_sheet(sheet, report: EvaluationReport, indicators, lang: str) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    header, rows, formats = zoning_table(report, indicators, lang)
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    sheet.row_dimensions[1].height = 45
    for values in rows:
        sheet.append(values)
        for position, number_format in enumerate(formats, start=1):
            if number_format:
                sheet.cell(row=sheet.max_row, column=position).number_format = number_format
    source = source_line(indicators, lang)
    if source:
        row = sheet.max_row + 2
        cell = sheet.cell(row=row, column=1, value=source)
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=len(header))
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        cell.font = Font(italic=True, size=10)
        sheet.row_dimensions[row].height = 14 * max(1, math.ceil(len(source) / 120))
    for position, width in enumerate([5, 26, 9] + [14] * (len(header) - 3), start=1):
        sheet.column_dimensions[column_letter(position)].width = width
    sheet.freeze_panes = "D2"
    landscape_a4(sheet)
