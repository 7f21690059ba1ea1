"""The annex table: its columns, one row per new unit and the total row, read from the typed evaluation.

Every writer of this package takes the evaluation as the contract's model,
:class:`~diagioi.geo.contract.EvaluationReport` (``Evaluation.report(lang)``); the evaluation JSON dict
(``Evaluation.to_json()``, ``GET /api/scenarios/{id}/evaluation``) is validated into it first
(:func:`as_report`), so no writer guesses at keys.
"""
from __future__ import annotations

import functools

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import ValidationError

from ..contract import EvaluationReport, MessageOut, NewUnitReport, StandardReport
from ..errors import InputError
from ..i18n import LANGUAGES, catalogue, format_number, translate
from ..kinds import ParentKind, Status, UnitKind
from .files import csv_bytes, write_bytes

# Display formats: Excel renders ',' and '.' with the separators of the reader's locale.
KM2_FORMAT = "#,##0.00"
PEOPLE_FORMAT = "#,##0"
DENSITY_FORMAT = "#,##0"
PERCENT_FORMAT = "0.0"
TEXT_FORMAT = "@"
INTEGER_FORMAT = "0"
NUMBER_FORMAT = "#,##0.##"

# Unit of measure of a standard → its catalogue key.
_UNIT_KEYS = {"km²": "unit.km2", "người": "unit.people", "đơn vị": "unit.units", "%": "unit.percent",
              "người/km²": "unit.per_km2"}
# Decimals shown by each display format: a figure is written rounded as shown, so totals add up.
DIGITS = {KM2_FORMAT: 2, PEOPLE_FORMAT: 0, DENSITY_FORMAT: 0, PERCENT_FORMAT: 1, INTEGER_FORMAT: 0}


def as_report(evaluation: EvaluationReport | Mapping[str, Any]) -> EvaluationReport:
    """The evaluation as the typed contract; a JSON dict is validated (an invalid one is an InputError)."""
    if isinstance(evaluation, EvaluationReport):
        return evaluation
    if not isinstance(evaluation, Mapping) or not isinstance(evaluation.get("new_units"), list):
        raise InputError(
            "the evaluation has no 'new_units' list",
            hint="pass Evaluation.report() or the evaluation JSON (GET /api/scenarios/{id}/evaluation)",
        )
    try:
        return EvaluationReport.model_validate(evaluation)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InputError(f"the evaluation does not follow its contract: {where}: {first['msg']}",
                         hint="pass the evaluation JSON unchanged (docs/contract/evaluation.schema.json)",
                         context={"field": where, "errors": len(exc.errors())}) from None


# --------------------------------------------------------------------------------------------- columns

@dataclass(frozen=True)
class Column:
    """One column of the annex: a flat header (CSV, row key) and a two-level header (XLSX)."""

    group: str | None  # upper header, merged across its sub-columns; None: the column spans both header rows
    label: str         # lower header (or the only one)
    number_format: str | None  # None: plain text cell
    width: float
    wrap: bool = False

    @property
    def key(self) -> str:
        return f"{self.group} – {self.label}" if self.group else self.label


def texts(lang: str) -> dict[str, str]:
    """The annex's texts in ``lang`` from the language catalogue (keys ``annex.*`` without the prefix)."""
    if lang not in LANGUAGES:
        raise InputError(f"unknown export language {lang!r}", hint="use lang='vi' or lang='en'")
    return dict(_annex_texts(lang))


@functools.cache
def _annex_texts(lang: str) -> dict[str, str]:
    # Once per language: every status label of every row asks for them, and the catalogue is fixed.
    messages = catalogue(lang)
    found = {key[len("annex."):]: text for key, text in messages.items() if key.startswith("annex.")}
    found.update({"pass": messages["status.pass"], "fail": messages["status.fail"],
                  "exempt": messages["status.exempt"], "exempt_clause": messages["status.exempt_clause"],
                  "no_data": messages["status.unknown"]})
    return found


Slot = tuple[str, int]


def criterion_slots(unit: NewUnitReport) -> list[tuple[Slot, StandardReport]]:
    """Pair each standard of a unit with its slot (criterion, n-th occurrence) so that none is dropped."""
    seen: dict[str, int] = {}
    slots = []
    for standard in unit.standards:
        criterion = standard.criterion or standard.rule
        occurrence = seen.get(criterion, 0)
        seen[criterion] = occurrence + 1
        slots.append(((criterion, occurrence), standard))
    return slots


def criterion_label(criterion: str, lang: str, *, inline: bool = False) -> str:
    """The criterion's name; ``inline`` lower-cases its first letter for use inside a Vietnamese phrase."""
    label = catalogue(lang).get(f"criterion.{criterion}", criterion)
    return label[:1].lower() + label[1:] if inline and lang == "vi" else label


def unit_label(unit: str | None, lang: str) -> str:
    unit = unit or ""
    return catalogue(lang)[_UNIT_KEYS[unit]] if unit in _UNIT_KEYS else unit


def format_for_unit(unit: str | None) -> str:
    return {"km²": KM2_FORMAT, "người": PEOPLE_FORMAT, "%": PERCENT_FORMAT, "đơn vị": INTEGER_FORMAT,
            "người/km²": DENSITY_FORMAT}.get(unit or "", NUMBER_FORMAT)


def annex_columns(report: EvaluationReport, lang: str) -> tuple[list[Column], list[tuple[Slot, list[Column]]]]:
    """Fixed columns, then three columns for every criterion slot present in any new unit."""
    t = texts(lang)
    area = t["area_group"]
    before = [
        Column(None, t["stt"], INTEGER_FORMAT, 5),
        Column(None, t["name"], None, 24, wrap=True),
        Column(None, t["kind"], None, 9),
        Column(None, t["member_codes"], TEXT_FORMAT, 14, wrap=True),
        Column(None, t["members"], None, 34, wrap=True),
        Column(area, t["official_area"], KM2_FORMAT, 11),
        Column(area, t["computed_area"], KM2_FORMAT, 12, wrap=True),
        Column(area, t["area_difference"], PERCENT_FORMAT, 10),
        Column(None, t["population"], PEOPLE_FORMAT, 12, wrap=True),
        Column(None, t["density"], DENSITY_FORMAT, 12, wrap=True),
    ]
    slot_units: dict[Slot, str | None] = {}
    for unit in report.new_units:
        for slot, standard in criterion_slots(unit):
            slot_units.setdefault(slot, standard.unit)
    per_criterion = []
    for (criterion, occurrence), unit_of_measure in slot_units.items():
        group = t["standard_group"].format(criterion=criterion_label(criterion, lang, inline=True))
        if occurrence:
            group += f" ({occurrence + 1})"
        per_criterion.append(((criterion, occurrence), [
            Column(group, t["threshold"].format(unit=unit_label(unit_of_measure, lang)),
                   format_for_unit(unit_of_measure), 11, wrap=True),
            Column(group, t["percent_of_standard"], PERCENT_FORMAT, 11, wrap=True),
            Column(group, t["result"], None, 13, wrap=True),
        ]))
    return before, per_criterion


def after_columns(lang: str) -> list[Column]:
    t = texts(lang)
    return [
        Column(None, t["conclusion"], None, 12, wrap=True),
        Column(None, t["sources"], None, 30, wrap=True),
        Column(None, t["notes"], None, 30, wrap=True),
    ]


def all_columns(report: EvaluationReport, lang: str) -> list[Column]:
    before, per_criterion = annex_columns(report, lang)
    return before + [c for _, cols in per_criterion for c in cols] + after_columns(lang)


# --------------------------------------------------------------------------------------------- cells

def number(value: Any) -> int | float | None:
    """A finite number (ints stay ints) or None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value


def count(value: Any) -> int | float | None:
    """People and unit counts: shown as integers when they are whole numbers."""
    value = number(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def round_half_up(value: float, digits: int) -> float:
    return float(Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def shown(value: Any, number_format: str | None) -> int | float | None:
    """A figure rounded to the decimals its display format shows (integers when it shows none)."""
    value = number(value)
    digits = DIGITS.get(number_format or "")
    if value is None or digits is None:
        return value
    rounded = round_half_up(value, digits)
    return int(rounded) if digits == 0 else rounded


def message_text(message: MessageOut | None, lang: str) -> str:
    return translate(message.model_dump(), lang) if message is not None else ""


def standard_citation(standard: StandardReport, lang: str) -> str:
    return message_text(standard.citation_message, lang) if standard.citation_message else standard.citation


def standard_notes(standard: StandardReport, lang: str) -> list[str]:
    if standard.note_messages:
        return [message_text(message, lang) for message in standard.note_messages]
    return [standard.note] if standard.note else []


def exemption_clause(standard: StandardReport, lang: str) -> str | None:
    """The legal basis of an exemption, as the rules file cites it (e.g. "Điều 5 khoản 2")."""
    message = standard.citation_message
    if message is not None and message.code == "citation.exempt":
        return translate(message.params.get("exemption"), lang) or None
    return None


def kind_label(kind: Any, lang: str) -> str | None:
    if kind is None:
        return None
    try:
        parsed = UnitKind.parse(kind)
    except InputError:
        return str(kind)  # a kind this version does not know is shown as it came, not guessed
    return catalogue(lang)[f"kind.{parsed.value}"]


def parent_kind_label(kind: Any, lang: str) -> str:
    if not kind:
        return ""
    try:
        parsed = ParentKind.parse(kind)
    except InputError:
        return str(kind)
    return catalogue(lang)[f"parent_kind.{parsed.value}"]


def status_label(status: Status, standards: Sequence[StandardReport], lang: str) -> str:
    """The reader's word for a status; unknown (a figure is missing) is "Thiếu số liệu", never a failure."""
    t = texts(lang)
    if status is Status.EXEMPT:
        clause = next((c for c in (exemption_clause(s, lang) for s in standards if s.exempt) if c), None)
        return t["exempt_clause"].format(clause=clause) if clause else t["exempt"]
    return {Status.PASS: t["pass"], Status.FAIL: t["fail"], Status.UNKNOWN: t["no_data"]}[Status(status)]


def result_label(standard: StandardReport, lang: str) -> str:
    return status_label(standard.status, [standard], lang)


def _members_text(unit: NewUnitReport) -> str:
    if len(unit.member_names) != len(unit.members):
        return "; ".join(unit.members)
    return "; ".join(f"{name} ({code})" for name, code in zip(unit.member_names, unit.members))


def _sources_text(unit: NewUnitReport, lang: str, t: Mapping[str, str]) -> str:
    area = t["area_official"] if unit.area_basis == "official" else t["area_computed"]
    source = message_text(unit.population_source_message, lang) or unit.population_source
    population = t["population_source"].format(source=source) if source else t["population_unknown"]
    return f"{area}; {population}"


def _notes_text(unit: NewUnitReport, lang: str, t: Mapping[str, str]) -> str:
    notes = []
    difference = number(unit.area_difference_pct)
    if unit.area_differs and difference is not None:
        sign = "+" if round_half_up(difference, 1) > 0 else ""
        notes.append(t["area_differs"].format(pct=sign + format_number(difference, 1, lang)))
    if unit.contiguous is False:
        notes.append(t["not_contiguous"].format(parts=len(unit.components) or "≥ 2"))
    if unit.drawn:
        notes.append(t["drawn"])
    if unit.population_is_estimate:
        notes.append(t["population_estimate"])
    if unit.missing_population:
        notes.append(t["missing_population"].format(codes=", ".join(unit.missing_population)))
    for standard in unit.standards:
        if standard.confirmed is False:
            notes.append(t["unconfirmed_standard"].format(criterion=criterion_label(standard.criterion, lang,
                                                                                    inline=True)))
        notes.extend(standard_notes(standard, lang))
    return "; ".join(dict.fromkeys(notes))  # a note shared by several standards is said once


# --------------------------------------------------------------------------------------------- rows

def evaluation_to_rows(evaluation: EvaluationReport | Mapping[str, Any], *, lang: str = "vi") -> list[dict]:
    """One flat row per new unit, keyed by the column header in ``lang`` (the CSV header, in annex order).

    Numbers are ``int``/``float`` or ``None`` when missing; codes and labels are ``str``. The keys of a
    two-level XLSX header are joined with " – ", e.g. ``"Diện tích tự nhiên (km²) – Chính thức"``.
    """
    report = as_report(evaluation)
    t = texts(lang)
    before, per_criterion = annex_columns(report, lang)
    columns = before + [c for _, cols in per_criterion for c in cols] + after_columns(lang)
    rows = []
    for index, unit in enumerate(report.new_units, start=1):
        values: list[Any] = [
            index,
            unit.name,
            kind_label(unit.kind, lang),
            ";".join(unit.members),
            _members_text(unit),
            shown(unit.official_area_km2, KM2_FORMAT),
            shown(unit.area_km2, KM2_FORMAT),
            shown(unit.area_difference_pct, PERCENT_FORMAT),
            shown(unit.population, PEOPLE_FORMAT),
            shown(unit.density, DENSITY_FORMAT),
        ]
        standards = dict(criterion_slots(unit))
        for slot, slot_columns in per_criterion:
            standard = standards.get(slot)
            if standard is None:
                values += [None, None, None]
                continue
            values += [shown(standard.threshold, slot_columns[0].number_format),
                       shown(standard.percent_of_standard, PERCENT_FORMAT), result_label(standard, lang)]
        values += [status_label(unit.status, unit.standards, lang), _sources_text(unit, lang, t),
                   _notes_text(unit, lang, t)]
        rows.append(dict(zip((c.key for c in columns), values, strict=True)))
    return rows


def total_values(report: EvaluationReport) -> dict[str, int | float | None]:
    """Sums of the figures as shown in the rows (a total row must add up to the rows above it)."""

    def total(field: str, number_format: str) -> float | None:
        values = [shown(getattr(unit, field), number_format) for unit in report.new_units]
        if not values or any(value is None for value in values):
            return None  # a partial sum would pass for a complete one
        return shown(sum(values), number_format)

    population = total("population", PEOPLE_FORMAT)
    area_for_standards = total("area_for_standards_km2", KM2_FORMAT)
    density = population / area_for_standards if population is not None and area_for_standards else None
    return {
        "official_area_km2": total("official_area_km2", KM2_FORMAT),
        "area_km2": total("area_km2", KM2_FORMAT),
        "population": population,
        "density": shown(density, DENSITY_FORMAT),
    }


def write_table_csv(evaluation: EvaluationReport | Mapping[str, Any], path_or_buffer, *, lang: str = "vi") -> None:
    """Write the area & density table as CSV: one row per new unit, columns as :func:`evaluation_to_rows`.

    UTF-8 with BOM; codes as text (read them back with ``dtype=str``). Numbers are rounded as shown; in
    Vietnamese they are written the Vietnamese way (``23.000``, ``12,10``: read back with ``decimal=","`` and
    ``thousands="."``), in English plainly with a dot decimal.
    ``path_or_buffer`` is a path (written atomically) or a text or binary file object.
    """
    report = as_report(evaluation)
    columns = all_columns(report, lang)
    rows = evaluation_to_rows(report, lang=lang)
    body = [[csv_value(row[c.key], c.number_format, lang) for c in columns] for row in rows]
    write_bytes(csv_bytes([c.key for c in columns], body), path_or_buffer, ".csv")


def csv_value(value: Any, number_format: str | None, lang: str) -> Any:
    """Vietnamese numbers as a Vietnamese reader (and Excel in Vietnamese) writes them: 1.234,5."""
    if lang != "vi" or isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    return format_number(value, DIGITS.get(number_format or ""), lang)
