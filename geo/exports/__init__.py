"""Exports of an evaluation: the area & density annex (CSV, XLSX), the old→new crosswalk, new units as GIS files.

Every writer takes the evaluation as the contract's typed model,
:class:`~diagioi.geo.contract.EvaluationReport` (``Evaluation.report(lang)``; the JSON dict of
``Evaluation.to_json()`` is validated into it), so this package does not depend on how the evaluation
is computed. The table follows the layout of the annexes attached to the 2025 arrangement resolutions:
STT, unit name, kind, merged former units, natural area (official and computed), population, density,
then for every standard the threshold, the share of the standard reached and Đạt / Không đạt, a
conclusion and the data sources.

Every text comes from the language catalogue (:mod:`geo.i18n`, Vietnamese by default): labels, kinds,
statuses, and the notes and citations of the standards, rendered from their typed forms
(``note_messages``, ``citation_message``, ``warning_messages``) so that the legal wording is the rules
file's own. Figures are rounded as they are shown (km² to 2 decimals, people and density to units, %
to 1 decimal) and the total row adds the rounded figures. XLSX cells stay numbers with display formats
(Excel shows the reader's separators); the Vietnamese CSV writes numbers the Vietnamese way (1.234,5).
Codes stay text, leading zeros kept; internal new-unit ids are not shown. Files given by path are
written atomically: to a temporary file beside the target, then ``os.replace``.

Modules: :mod:`.table` (columns and rows, the CSV table), :mod:`.annex` (XLSX), :mod:`.crosswalk`,
:mod:`.zoning` (the zoning-indicators sheet), :mod:`.gis` (GeoPackage, GeoJSON), :mod:`.files`.
"""
from __future__ import annotations

from .annex import write_annex_xlsx
from .crosswalk import CROSSWALK_KEYS, crosswalk_rows, write_crosswalk_csv
from .files import FORMULA_TRIGGERS, spreadsheet_text
from .gis import GEOJSON_DECIMALS, write_new_units_geojson, write_new_units_gpkg
from .table import (DENSITY_FORMAT, INTEGER_FORMAT, KM2_FORMAT, NUMBER_FORMAT, PEOPLE_FORMAT, PERCENT_FORMAT,
                    TEXT_FORMAT, as_report, evaluation_to_rows, write_table_csv)

__all__ = [
    "CROSSWALK_KEYS", "DENSITY_FORMAT", "FORMULA_TRIGGERS", "GEOJSON_DECIMALS", "INTEGER_FORMAT", "KM2_FORMAT",
    "NUMBER_FORMAT", "PEOPLE_FORMAT", "PERCENT_FORMAT", "TEXT_FORMAT",
    "as_report",
    "crosswalk_rows",
    "evaluation_to_rows",
    "spreadsheet_text",
    "write_annex_xlsx",
    "write_crosswalk_csv",
    "write_new_units_geojson",
    "write_new_units_gpkg",
    "write_table_csv",
]
