"""Exports of an evaluation: the area & density annex (CSV, XLSX), the old→new crosswalk, new units as GIS files.

Every writer takes the evaluation JSON dict of ``notes/contracts.md`` (what ``Evaluation.to_json()``
returns), so this module does not depend on how the evaluation is computed. The table follows the
layout of the annexes attached to the 2025 arrangement resolutions: STT, unit name, kind, merged
former units, natural area (official and computed), population, density, then for every standard
the threshold, the share of the standard reached and Đạt / Không đạt, a conclusion and the data
sources.

Every text comes from the language catalogue (:mod:`geo.i18n`, Vietnamese by default): labels, kinds,
statuses, and the notes and citations of the standards, rendered from their typed forms
(``note_messages``, ``citation_message``, ``warning_messages``) so that the legal wording is the rules
file's own. Figures are rounded as they are shown (km² to 2 decimals, people and density to units, %
to 1 decimal) and the total row adds the rounded figures. XLSX cells stay numbers with display formats
(Excel shows the reader's separators); the Vietnamese CSV writes numbers the Vietnamese way (1.234,5).
Codes stay text, leading zeros kept; internal new-unit ids are not shown. Files given by path are
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
from .i18n import LANGUAGES, catalogue, format_number, translate
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

# Display formats: Excel renders ',' and '.' with the separators of the reader's locale.
KM2_FORMAT = "#,##0.00"
PEOPLE_FORMAT = "#,##0"
DENSITY_FORMAT = "#,##0"
PERCENT_FORMAT = "0.0"
TEXT_FORMAT = "@"
INTEGER_FORMAT = "0"
NUMBER_FORMAT = "#,##0.##"

GEOJSON_DECIMALS = 7  # ~1 cm at the equator, RFC 7946 §11.2 recommends not more

CROSSWALK_KEYS = ("old_code", "old_name", "old_kind", "district", "new_unit_id", "new_unit_name", "new_kind",
                  "share", "area_share", "population_share")
# The crosswalk a person reads: the new unit by name (its internal id n1, n2… means nothing to a reader).
_CROSSWALK_SHOWN = ("old_code", "old_name", "old_kind", "district", "new_unit_name", "new_kind",
                    "share", "area_share", "population_share")
# Unit of measure of a standard → its catalogue key.
_UNIT_KEYS = {"km²": "unit.km2", "người": "unit.people", "đơn vị": "unit.units", "%": "unit.percent",
              "người/km²": "unit.per_km2"}
# Decimals shown by each display format: a figure is written rounded as shown, so totals add up.
_DIGITS = {KM2_FORMAT: 2, PEOPLE_FORMAT: 0, DENSITY_FORMAT: 0, PERCENT_FORMAT: 1, INTEGER_FORMAT: 0}


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
    """The annex's texts in ``lang`` from the language catalogue (keys ``annex.*`` without the prefix)."""
    if lang not in LANGUAGES:
        raise InputError(f"unknown export language {lang!r}", hint="use lang='vi' or lang='en'")
    messages = catalogue(lang)
    texts = {key[len("annex."):]: text for key, text in messages.items() if key.startswith("annex.")}
    texts.update({"pass": messages["status.pass"], "fail": messages["status.fail"],
                  "exempt": messages["status.exempt"], "exempt_clause": messages["status.exempt_clause"],
                  "no_data": messages["status.unknown"]})
    return texts


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


def _criterion_label(criterion: str, lang: str, *, inline: bool = False) -> str:
    """The criterion's name; ``inline`` lower-cases its first letter for use inside a Vietnamese phrase."""
    label = catalogue(lang).get(f"criterion.{criterion}", criterion)
    return label[:1].lower() + label[1:] if inline and lang == "vi" else label


def _unit_label(unit: str | None, lang: str) -> str:
    unit = unit or ""
    return catalogue(lang)[_UNIT_KEYS[unit]] if unit in _UNIT_KEYS else unit


def _shown(value: Any, number_format: str | None) -> int | float | None:
    """A figure rounded to the decimals its display format shows (integers when it shows none)."""
    number = _number(value)
    digits = _DIGITS.get(number_format or "")
    if number is None or digits is None:
        return number
    rounded = _round_half_up(number, digits)
    return int(rounded) if digits == 0 else rounded


def _round_half_up(number: float, digits: int) -> float:
    from decimal import ROUND_HALF_UP, Decimal

    return float(Decimal(repr(float(number))).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def _standard_citation(standard: Mapping[str, Any], lang: str) -> str:
    message = standard.get("citation_message")
    return translate(message, lang) if message else str(standard.get("citation") or "")


def _standard_notes(standard: Mapping[str, Any], lang: str) -> list[str]:
    if standard.get("note_messages") is not None:
        return [translate(message, lang) for message in standard["note_messages"]]
    return [str(standard["note"])] if standard.get("note") else []


def _exemption_clause(standard: Mapping[str, Any], lang: str) -> str | None:
    """The legal basis of an exemption, as the rules file cites it (e.g. "Điều 5 khoản 2")."""
    message = standard.get("citation_message") or {}
    if message.get("code") == "citation.exempt":
        return translate((message.get("params") or {}).get("exemption"), lang) or None
    return None


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
        label = _criterion_label(criterion, lang, inline=True)
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


def _kind_label(kind: Any, lang: str) -> str | None:
    if kind is None:
        return None
    try:
        parsed = UnitKind.parse(kind)
    except InputError:
        return str(kind)  # a kind this version does not know is shown as it came, not guessed
    return catalogue(lang)[f"kind.{parsed.value}"]


def _parent_kind_label(kind: Any, lang: str) -> str:
    if not kind:
        return ""
    try:
        parsed = ParentKind.parse(kind)
    except InputError:
        return str(kind)
    return catalogue(lang)[f"parent_kind.{parsed.value}"]


def _exempt_label(standards: Sequence[Mapping[str, Any]], lang: str, t: Mapping[str, str]) -> str:
    clause = next((c for c in (_exemption_clause(s, lang) for s in standards if s.get("exempt")) if c), None)
    return t["exempt_clause"].format(clause=clause) if clause else t["exempt"]


def _result_label(standard: Mapping[str, Any], lang: str, t: Mapping[str, str]) -> str:
    if standard.get("exempt"):
        return _exempt_label([standard], lang, t)
    passed = standard.get("passed")
    if passed is None:
        return t["no_data"]
    return t["pass"] if passed else t["fail"]


def _conclusion_label(unit: Mapping[str, Any], lang: str, t: Mapping[str, str]) -> str:
    status = unit.get("status")
    if status == "exempt":
        return _exempt_label(unit.get("standards") or [], lang, t)
    labels = {"pass": t["pass"], "fail": t["fail"], "unknown": t["no_data"]}
    return labels.get(status, "" if status is None else str(status))


def _members_text(unit: Mapping[str, Any]) -> str:
    codes = [str(code) for code in unit.get("members") or []]
    names = list(unit.get("member_names") or [])
    if len(names) != len(codes):
        return "; ".join(codes)
    return "; ".join(f"{name} ({code})" for name, code in zip(names, codes))


def _sources_text(unit: Mapping[str, Any], lang: str, t: Mapping[str, str]) -> str:
    area = t["area_official"] if unit.get("area_basis") == "official" else t["area_computed"]
    message = unit.get("population_source_message")
    source = translate(message, lang) if message else unit.get("population_source")
    population = t["population_source"].format(source=source) if source else t["population_unknown"]
    return f"{area}; {population}"


def _notes_text(unit: Mapping[str, Any], lang: str, t: Mapping[str, str]) -> str:
    notes = []
    difference = _number(unit.get("area_difference_pct"))
    if unit.get("area_differs") and difference is not None:
        sign = "+" if _round_half_up(difference, 1) > 0 else ""
        notes.append(t["area_differs"].format(pct=sign + format_number(difference, 1, lang)))
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
            label = _criterion_label(str(standard.get("criterion")), lang, inline=True)
            notes.append(t["unconfirmed_standard"].format(criterion=label))
        notes.extend(_standard_notes(standard, lang))
    return "; ".join(dict.fromkeys(notes))  # a note shared by several standards is said once


def evaluation_to_rows(evaluation: dict, *, lang: str = "vi") -> list[dict]:
    """One flat row per new unit, keyed by the column header in ``lang`` (the CSV header, in annex order).

    Numbers are ``int``/``float`` or ``None`` when missing; codes and labels are ``str``. The keys of a
    two-level XLSX header are joined with " – ", e.g. ``"Diện tích tự nhiên (km²) – Chính thức"``.
    """
    t = _texts(lang)
    before, per_criterion = _annex_columns(evaluation, lang)
    after = _after_columns(lang)
    rows = []
    for index, unit in enumerate(_new_units(evaluation), start=1):
        values: list[Any] = [
            index,
            unit.get("name"),
            _kind_label(unit.get("kind"), lang),
            ";".join(str(code) for code in unit.get("members") or []),
            _members_text(unit),
            _shown(unit.get("official_area_km2"), KM2_FORMAT),
            _shown(unit.get("area_km2"), KM2_FORMAT),
            _shown(unit.get("area_difference_pct"), PERCENT_FORMAT),
            _shown(unit.get("population"), PEOPLE_FORMAT),
            _shown(unit.get("density"), DENSITY_FORMAT),
        ]
        standards = dict(_criterion_slots(unit))
        for slot, columns in per_criterion:
            standard = standards.get(slot)
            if standard is None:
                values += [None, None, None]
                continue
            values += [_shown(standard.get("threshold"), columns[0].number_format),
                       _shown(standard.get("percent_of_standard"), PERCENT_FORMAT), _result_label(standard, lang, t)]
        values += [
            _conclusion_label(unit, lang, t),
            _sources_text(unit, lang, t),
            _notes_text(unit, lang, t),
        ]
        columns = before + [c for _, cols in per_criterion for c in cols] + after
        rows.append(dict(zip((c.key for c in columns), values, strict=True)))
    return rows


def _total_values(evaluation: Mapping[str, Any]) -> dict[str, int | float | None]:
    """Sums of the figures as shown in the rows (a total row must add up to the rows above it)."""
    units = _new_units(evaluation)

    def total(field: str, number_format: str) -> float | None:
        values = [_shown(unit.get(field), number_format) for unit in units]
        if not values or any(value is None for value in values):
            return None  # a partial sum would pass for a complete one
        return _shown(sum(values), number_format)

    population = total("population", PEOPLE_FORMAT)
    area_for_standards = total("area_for_standards_km2", KM2_FORMAT)
    density = population / area_for_standards if population is not None and area_for_standards else None
    return {
        "official_area_km2": total("official_area_km2", KM2_FORMAT),
        "area_km2": total("area_km2", KM2_FORMAT),
        "population": population,
        "density": _shown(density, DENSITY_FORMAT),
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
    """UTF-8 with a BOM (Excel then reads Vietnamese correctly), missing values empty; text that a
    spreadsheet would run as a formula is neutralised (:func:`spreadsheet_text`)."""
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

    UTF-8 with BOM; codes as text (read them back with ``dtype=str``). Numbers are rounded as shown; in
    Vietnamese they are written the Vietnamese way (``23.000``, ``12,10``: read back with ``decimal=","`` and
    ``thousands="."``), in English plainly with a dot decimal.
    ``path_or_buffer`` is a path (written atomically) or a text or binary file object.
    """
    columns = _all_columns(evaluation, lang)
    rows = evaluation_to_rows(evaluation, lang=lang)
    body = [[_csv_value(row[c.key], c, lang) for c in columns] for row in rows]
    _write_bytes(_csv_bytes([c.key for c in columns], body), path_or_buffer, ".csv")


def _csv_value(value: Any, column: _Column, lang: str) -> Any:
    """Vietnamese numbers as a Vietnamese reader (and Excel in Vietnamese) writes them: 1.234,5."""
    if lang != "vi" or isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    return format_number(value, _DIGITS.get(column.number_format or ""), lang)


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
    header = [t[key] for key in _CROSSWALK_SHOWN]
    body = []
    for row in rows:
        values = dict(zip(CROSSWALK_KEYS, (_clean(row.get(key)) for key in CROSSWALK_KEYS)))
        if values["new_unit_name"] is None:
            values["new_unit_name"] = row.get("new_name")  # the key Evaluation.crosswalk() uses
        values["old_kind"] = _kind_label(values["old_kind"], lang)
        values["new_kind"] = _kind_label(values["new_kind"], lang)
        values["old_code"] = None if values["old_code"] is None else str(values["old_code"])
        share_key = _SHARE_KEYS.get(values["share"])
        values["share"] = catalogue(lang)[share_key] if share_key else values["share"]
        for key in ("area_share", "population_share"):  # fractions, shown as % like the annex
            fraction = _number(values[key])
            values[key] = None if fraction is None else _shown(100.0 * fraction, PERCENT_FORMAT)
        body.append([values[key] for key in _CROSSWALK_SHOWN])
    return header, body


_SHARE_KEYS = {"toàn bộ": "crosswalk.whole", "một phần": "crosswalk.part"}
_CROSSWALK_PERCENT_COLUMNS = (_CROSSWALK_SHOWN.index("area_share"), _CROSSWALK_SHOWN.index("population_share"))


def write_crosswalk_csv(evaluation: dict, units, path_or_buffer, *, lang: str = "vi") -> None:
    """Write the old→new crosswalk (:func:`crosswalk_rows`) as CSV, UTF-8 with BOM, kinds as labels in ``lang``.

    Columns: old code (text), old name, old kind, district, new unit name, new kind, whole or part, shares of
    area and population moved (%). Vietnamese numbers are written the Vietnamese way, as in the annex CSV.
    """
    header, body = _crosswalk_table(crosswalk_rows(evaluation, units), lang)
    if lang == "vi":
        body = [[format_number(v, 1, lang) if i in _CROSSWALK_PERCENT_COLUMNS and v is not None else v
                 for i, v in enumerate(row)] for row in body]
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
            self._block_row(row, [t["ward_share"], _shown(percent(totals.get("ward_share_before")), PERCENT_FORMAT),
                                  _shown(percent(totals.get("ward_share_after")), PERCENT_FORMAT)],
                            [None, PERCENT_FORMAT, PERCENT_FORMAT])
            row += 1
        for standard in parent.get("standards") or []:
            unit = standard.get("unit")
            label = _criterion_label(str(standard.get("criterion")), self.lang)
            label = label[:1].upper() + label[1:]
            if unit:
                label += f" ({_unit_label(unit, self.lang)})"
            value_format = _format_for_unit(unit)
            citation = _standard_citation(standard, self.lang)
            if standard.get("confirmed") is False:
                citation += self.t["note_rule_unconfirmed"]
            self._block_row(
                row,
                [label, None, _shown(standard.get("value"), value_format),
                 _shown(standard.get("threshold"), value_format),
                 _shown(standard.get("percent_of_standard"), PERCENT_FORMAT),
                 _result_label(standard, self.lang, t), citation],
                [None, value_format, value_format, value_format, PERCENT_FORMAT, None, None],
            )
            row += 1
        return row

    def _footnotes(self) -> list[str]:
        t = self.t
        notes = [t["note_geodesic"], t["note_density"], t["note_rounding"]]
        standards = [standard for unit in _new_units(self.evaluation) for standard in unit.get("standards") or []]
        parent = (self.evaluation.get("totals") or {}).get("parent") or {}
        standards += parent.get("standards") or []
        citations = []
        for standard in standards:
            text = t["note_rule"].format(criterion=_criterion_label(str(standard.get("criterion")), self.lang,
                                                                    inline=True),
                                         rule=standard.get("rule"), citation=_standard_citation(standard, self.lang) or "?")
            if standard.get("confirmed") is False:
                text += t["note_rule_unconfirmed"]
            citations.append(text)
        notes += list(dict.fromkeys(citations))  # each legal basis once
        warnings = self.evaluation.get("warning_messages")
        texts = ([translate(message, self.lang) for message in warnings] if warnings is not None
                 else [str(w) for w in self.evaluation.get("warnings") or []])
        notes += [translate("warning.label", self.lang, text=text) for text in texts]
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
    text_columns = {0}  # old code
    for values in body:
        sheet.append(values)
        for index in text_columns:
            sheet.cell(row=sheet.max_row, column=index + 1).number_format = TEXT_FORMAT
        for index in _CROSSWALK_PERCENT_COLUMNS:
            sheet.cell(row=sheet.max_row, column=index + 1).number_format = PERCENT_FORMAT
    for position, width in enumerate((12, 26, 12, 22, 26, 12, 14, 14, 16), start=1):
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
