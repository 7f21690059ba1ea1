"""The XLSX annex: the table of new units as attached to a proposal, the parent block and footnotes.

Sheets: "Phụ lục" (the annex), "Bảng chuyển đổi" (the crosswalk, when given) and "Chỉ tiêu quy hoạch"
(zoning indicators per new unit, when given: :mod:`.zoning`).
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from ..contract import EvaluationReport
from ..i18n import translate
from .crosswalk import landscape_a4, write_crosswalk_sheet
from .files import column_letter, save_workbook
from .table import (INTEGER_FORMAT, PERCENT_FORMAT, TEXT_FORMAT, Column, all_columns,
                    as_report, count, criterion_label, evaluation_to_rows, format_for_unit, kind_label, message_text,
                    parent_kind_label, result_label, shown, standard_citation, texts, total_values,
                    unit_label)


def write_annex_xlsx(evaluation: EvaluationReport | Mapping[str, Any], path, *, lang: str = "vi",
                     title: str | None = None, units_crosswalk: list[dict] | None = None,
                     zoning=None) -> None:
    """Write the annex workbook: sheet "Phụ lục" ("Annex"), and when given "Bảng chuyển đổi" ("Crosswalk")
    and "Chỉ tiêu quy hoạch" ("Zoning indicators").

    The annex has title rows (title, scenario, parent, regime with a warning when the rule set is not
    confirmed), a two-level merged header, one row per new unit, a total row, the parent block (units
    by kind, share of wards, parent standards) and footnotes citing every rule. Numbers are numeric
    cells with display formats (km² ``#,##0.00``, people ``#,##0``, % ``0.0``); codes are text cells
    (``@``). ``units_crosswalk`` takes the rows of :func:`crosswalk_rows`; ``zoning`` the indicators per
    new unit (``layers.indicators.compute_indicators`` indexed by new-unit id). ``path`` may also be a
    binary file object.
    """
    from openpyxl import Workbook

    report = as_report(evaluation)
    t = texts(lang)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = t["sheet_annex"]
    _AnnexSheet(sheet, report, lang, title).write()
    if units_crosswalk is not None:
        write_crosswalk_sheet(workbook.create_sheet(t["sheet_crosswalk"]), units_crosswalk, lang)
    if zoning is not None:
        from .zoning import write_zoning_sheet

        write_zoning_sheet(workbook.create_sheet(t["sheet_zoning"]), report, zoning, lang)
    save_workbook(workbook, path)


class _AnnexSheet:
    """Lays out the annex sheet row by row (kept in one place so row positions stay consistent)."""

    def __init__(self, sheet, report: EvaluationReport, lang: str, title: str | None):
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

        self.sheet = sheet
        self.report = report
        self.lang = lang
        self.t = texts(lang)
        self.title = title or self.t["title"]
        self.columns = all_columns(report, lang)
        self.rows = evaluation_to_rows(report, lang=lang)
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
        scenario = self.report.scenario
        self._merged_line(row, self.title, font=self.Font(bold=True, size=13), height=36)
        row += 1
        if scenario.name:
            self._merged_line(row, self.t["scenario"].format(name=scenario.name), font=self.Font(italic=True))
            row += 1
        parent = self.report.totals.parent
        if parent is not None and parent.name:
            kind = parent_kind_label(parent.kind, self.lang)
            self._merged_line(row, self.t["parent"].format(name=parent.name, kind=kind))
            row += 1
        regime_name = scenario.regime_name or scenario.regime
        if regime_name:
            text = self.t["regime"].format(regime_name=regime_name)
            unconfirmed = scenario.confirmed is False
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
            sheet.column_dimensions[column_letter(position)].width = column.width
        return row + 2

    def _data_cell(self, row: int, position: int, column: Column, value: Any):
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
        totals = total_values(self.report)
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
        totals = self.report.totals
        parent = totals.parent
        if parent is not None and parent.name:
            heading = t["parent_heading"].format(name=parent.name.upper(),
                                                 kind=parent_kind_label(parent.kind, self.lang))
        else:
            heading = t["summary_heading"]
        self.sheet.cell(row=row, column=3, value=heading).font = self.bold
        row += 1
        header = [t["indicator"], t["before"], t["after"], t["standard"],
                  t["percent_of_standard"], t["result"], t["citation"]]
        self._block_row(row, header, [None] * len(header), bold=True)
        row += 1
        count_formats = [None, INTEGER_FORMAT, INTEGER_FORMAT, None, None, None, None]
        self._block_row(row, [t["units_count"], count(totals.units_before), count(totals.units_after)],
                        count_formats)
        row += 1
        for kind in dict.fromkeys([*totals.by_kind_before, *totals.by_kind_after]):
            label = t["units_of_kind"].format(kind=kind_label(kind, self.lang))
            self._block_row(row, [label, count(totals.by_kind_before.get(kind, 0)),
                                  count(totals.by_kind_after.get(kind, 0))], count_formats)
            row += 1
        if totals.ward_share_before is not None or totals.ward_share_after is not None:
            def percent(share: float | None) -> float | None:
                return None if share is None else share * 100.0  # the contract gives a fraction
            self._block_row(row, [t["ward_share"], shown(percent(totals.ward_share_before), PERCENT_FORMAT),
                                  shown(percent(totals.ward_share_after), PERCENT_FORMAT)],
                            [None, PERCENT_FORMAT, PERCENT_FORMAT])
            row += 1
        for standard in parent.standards if parent is not None else []:
            label = criterion_label(standard.criterion, self.lang)
            label = label[:1].upper() + label[1:]
            if standard.unit:
                label += f" ({unit_label(standard.unit, self.lang)})"
            value_format = format_for_unit(standard.unit)
            citation = standard_citation(standard, self.lang)
            if standard.confirmed is False:
                citation += self.t["note_rule_unconfirmed"]
            self._block_row(
                row,
                [label, None, shown(standard.value, value_format), shown(standard.threshold, value_format),
                 shown(standard.percent_of_standard, PERCENT_FORMAT), result_label(standard, self.lang), citation],
                [None, value_format, value_format, value_format, PERCENT_FORMAT, None, None],
            )
            row += 1
        return row

    def _footnotes(self) -> list[str]:
        t = self.t
        notes = [t["note_geodesic"], t["note_density"], t["note_rounding"]]
        standards = [standard for unit in self.report.new_units for standard in unit.standards]
        if self.report.totals.parent is not None:
            standards += self.report.totals.parent.standards
        citations = []
        for standard in standards:
            text = t["note_rule"].format(criterion=criterion_label(standard.criterion, self.lang, inline=True),
                                         rule=standard.rule, citation=standard_citation(standard, self.lang) or "?")
            if standard.confirmed is False:
                text += t["note_rule_unconfirmed"]
            citations.append(text)
        notes += list(dict.fromkeys(citations))  # each legal basis once
        warnings = ([message_text(message, self.lang) for message in self.report.warning_messages]
                    if self.report.warning_messages else list(self.report.warnings))
        notes += [translate("warning.label", self.lang, text=text) for text in warnings]
        return notes

    def _write_footnotes(self, row: int) -> None:
        self.sheet.cell(row=row, column=1, value=self.t["footnotes"]).font = self.Font(bold=True, italic=True)
        characters_per_line = max(40, int(sum(c.width for c in self.columns) * 1.1))
        for position, note in enumerate(self._footnotes(), start=1):
            row += 1
            cell = self.sheet.cell(row=row, column=1, value=f"({position}) {note}")
            self.sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=self.width)
            cell.alignment = self.Alignment(wrap_text=True, vertical="top")
            cell.font = self.Font(italic=True, size=10)
            # Excel does not grow merged rows to fit wrapped text, so size them from the text length.
            lines = math.ceil(len(cell.value) / characters_per_line)
            self.sheet.row_dimensions[row].height = 14 * max(1, lines)

    def _page_setup(self, header_row: int, first_data_row: int) -> None:
        sheet = self.sheet
        sheet.freeze_panes = sheet.cell(row=first_data_row, column=4)  # keep STT, id and name in view
        landscape_a4(sheet)
        sheet.print_title_rows = f"{header_row}:{header_row + 1}"
        sheet.page_margins.left = sheet.page_margins.right = 0.4
        sheet.page_margins.top = sheet.page_margins.bottom = 0.5
        sheet.print_options.horizontalCentered = True


