"""Region flags that pick a standard's variant: where each comes from and why.

Flags: ``mountainous`` (miền núi, vùng cao), ``border`` (biên giới), ``island`` (hải đảo),
``red_river_delta`` (đồng bằng sông Hồng), ``central_city``, ``coastal_poor`` (booleans) and
``ethnic_minority_share`` (0..1). For one unit, the first source that says something wins:

1. the new unit's own value (set in the scenario);
2. the scenario's ``unit_flags`` (a table per existing unit, e.g. from ``--flags flags.csv``) for
   its members;
3. the units layer's own columns (only when the layer has that column);
4. the scenario ``context``.

Over several members a flag is combined as: ``mountainous``, ``red_river_delta``,
``coastal_poor`` — more than half of the members' area; ``border``, ``island`` — any member
(a merged unit touches the border when one of its members does); the ethnic-minority share —
population-weighted, known only when known for every member. Every resolved flag carries a
Vietnamese reason ("miền núi, vùng cao — theo bảng cờ flags.csv"), which the standards results
repeat to say which variant applied and why.

A flags table is a CSV or XLSX file read by :func:`geo.tables.read_table` (Vietnamese headers
such as "Mã xã", "Miền núi", "Tỷ lệ DTTS" are recognised too)::

    code,mountainous,border,island,red_river_delta,ethnic_minority_share
    01840,1,0,0,0,0.42
    01849,có,,,,35%

Booleans: 1/0, true/false, yes/no, có/không, x (empty: not set, the next source decides); any
other word is refused. Shares: a fraction 0..1 or a percentage (``35%`` or a number above 1).
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

from .contract.scenario import FLAG_NAMES
from .errors import InputError
from .i18n import Message
from .text import fold

SHARE_FLAG = "ethnic_minority_share"
ALL_FLAGS = FLAG_NAMES
BOOLEAN_FLAGS = tuple(f for f in FLAG_NAMES if f != SHARE_FLAG)
MAJORITY_FLAGS = ("mountainous", "red_river_delta", "coastal_poor")
ANY_FLAGS = ("border", "island")

FLAG_LABEL_VI = {
    "mountainous": "miền núi, vùng cao",
    "border": "biên giới",
    "island": "hải đảo",
    "red_river_delta": "đồng bằng sông Hồng",
    "central_city": "thuộc thành phố trực thuộc trung ương",
    "coastal_poor": "xã bãi ngang, ven biển đặc biệt khó khăn",
    "ethnic_minority_share": "tỷ lệ người dân tộc thiểu số",
}
SOURCE_VI = {
    "own": "đặt riêng cho đơn vị mới",
    "unit_flags": "theo bảng cờ của đơn vị",
    "layer": "theo cột của lớp đơn vị",
    "context": "theo bối cảnh chung của phương án",
    "parent": "theo loại đơn vị cấp trên",
    "default": "không có nguồn nào đặt, coi là không",
}
_TRUE = {"1", "true", "yes", "y", "co", "x", "dung"}
_FALSE = {"0", "false", "no", "n", "khong", "sai"}


# ------------------------------------------------------------------------------------ reading
def read_flags_table(path, units, *, join_on: str = "code", sheet: str | None = None) -> tuple[dict, object]:
    """Read a flags table (CSV/XLSX, see :func:`geo.tables.read_table`) joined to ``units``.

    Returns ``({code: {flag: value}}, JoinReport)``; an empty cell leaves the flag unset (the
    next source decides). A row that matches no unit, an ambiguous row or a cell that is not
    yes/no (or a share) is refused, naming the row.
    """
    from .tables import FLAG_FIELDS, join_table, read_table

    table = read_table(path, sheet=sheet)
    flags = [f for f in FLAG_FIELDS if f in table.frame.columns]
    _joined, report = join_table(units, table, join_on=join_on, fields=flags)
    if report.unmatched_rows or report.ambiguous:
        rows = [r["row"] for r in report.unmatched_rows] + [r for a in report.ambiguous for r in a["rows"]]
        first = (report.unmatched_rows or [{}])[0]
        example = Message("flags.example", {"value": repr(first.get("code") or first.get("name"))}) if first else ""
        raise InputError(Message("error.flags_unmatched", {"table": table.label(), "n": len(rows),
                                                           "rows": ", ".join(str(r) for r in rows[:10]),
                                                           "example": example}),
                         hint=Message("hint.flags_unmatched"), context={"rows": rows[:100], "file": str(path)},
                         code="input")
    result: dict[str, dict] = {}
    for code, row in report.pairs.items():
        values = {}
        for flag in flags:
            cell = table.frame.at[row, flag]
            if cell is None or (isinstance(cell, float) and math.isnan(cell)) or not str(cell).strip():
                continue
            values[flag] = _cell(flag, cell, table.label(), int(row), table.columns[flag])
        result[code] = values
    return result, report


def _cell(flag: str, value, name: str, row: int, column: str):
    if isinstance(value, bool):
        value = int(value)
    raw = (f"{value:g}" if isinstance(value, float) else str(value)).strip()
    if flag == SHARE_FLAG:
        percent = raw.endswith("%")
        number_text = raw.rstrip("%").strip().replace(",", ".")
        try:
            value = float(number_text)
        except ValueError:
            value = math.nan
        if percent or value > 1:
            value /= 100.0
        if math.isnan(value) or not 0 <= value <= 1:
            raise InputError(Message("error.flags_not_share", {"table": name, "row": str(row), "column": column,
                                                               "value": repr(raw)}),
                             hint=Message("hint.flags_share"), context={"row": row, "column": column}, code="input")
        return value
    key = fold(raw)
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise InputError(Message("error.flags_not_yes_no", {"table": name, "row": str(row), "column": column,
                                                        "value": repr(raw)}),
                     hint=Message("hint.flags_yes_no"), context={"row": row, "column": column}, code="input")


def flags_to_csv(table: dict[str, dict]) -> str:
    """The canonical CSV of a flags table (stored with the dataset)."""
    used = [f for f in ALL_FLAGS if any(f in row for row in table.values())]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["code", *used])
    for code in sorted(table):
        row = table[code]
        writer.writerow([code, *("" if f not in row else (row[f] if f == SHARE_FLAG else int(row[f]))
                                 for f in used)])
    return out.getvalue()


# ---------------------------------------------------------------------------------- resolving
@dataclass(frozen=True)
class ResolvedFlags:
    """Flag values of one unit and, for each, where it came from (Vietnamese)."""

    values: dict
    reasons: dict

    def __getitem__(self, key):
        return self.values[key]

    def get(self, key, default=None):
        return self.values.get(key, default)

    def reason(self, flag: str) -> str:
        return self.reasons.get(flag, "")


def _member_value(code: str, flag: str, *, unit_flags, layer_values, layer_has, context):
    """(value, source) of one flag of one existing unit, by precedence unit_flags > layer > context."""
    row = unit_flags.get(code)
    if row and row.get(flag) is not None:
        return row[flag], "unit_flags"
    if flag in layer_has:
        value = layer_values.get(flag, {}).get(code)
        if value is not None:
            return value, "layer"
    if context.get(flag) is not None:
        return context[flag], "context"
    return None, "default"


def resolve_flags(codes, *, areas: dict, populations: dict, unit_flags: dict | None = None,
                  layer_values: dict | None = None, layer_has=frozenset(), context: dict | None = None,
                  own: dict | None = None, defaults: dict | None = None, flags_name: str | None = None
                  ) -> ResolvedFlags:
    """Resolve every flag of a unit made of existing units ``codes`` (see the module text).

    ``areas`` and ``populations`` are per code (the land that goes into the unit); ``layer_values``
    is ``{flag: {code: value}}`` for the columns the layer has (``layer_has``); ``own`` the new unit's
    own values; ``defaults`` values used when no source says anything (e.g. ``central_city`` from the
    parent's kind).
    """
    unit_flags = unit_flags or {}
    layer_values = layer_values or {}
    context = context or {}
    own = own or {}
    defaults = defaults or {}
    codes = list(codes)
    values, reasons = {}, {}
    table = f"bảng cờ {flags_name}" if flags_name else SOURCE_VI["unit_flags"].removeprefix("theo ")
    for flag in ALL_FLAGS:
        label = FLAG_LABEL_VI[flag]
        if own.get(flag) is not None:
            values[flag] = own[flag]
            reasons[flag] = f"{label} — {SOURCE_VI['own']}"
            continue
        member = [(c, *_member_value(c, flag, unit_flags=unit_flags, layer_values=layer_values,
                                     layer_has=layer_has, context=context)) for c in codes]
        sources = {s for _c, _v, s in member if s != "default"}
        if not member or not sources:
            if defaults.get(flag) is not None:
                values[flag] = defaults[flag]
                reasons[flag] = f"{label} — {SOURCE_VI['parent']}" if defaults[flag] else ""
            else:
                values[flag] = None if flag == SHARE_FLAG else False
                reasons[flag] = ""
            continue
        where = "; ".join(_source_text(s, table) for s in ("unit_flags", "layer", "context") if s in sources)
        if flag == SHARE_FLAG:
            known = [(v, populations.get(c)) for c, v, _s in member]
            if all(v is not None and p for v, p in known):
                total = math.fsum(p for _v, p in known)
                values[flag] = math.fsum(v * p for v, p in known) / total
                detail = "" if len(codes) == 1 else ", bình quân theo dân số các đơn vị thành phần"
                reasons[flag] = f"{label} {values[flag]:.0%} — {where}{detail}"
            else:
                values[flag] = None
                reasons[flag] = f"{label}: thiếu số liệu cho một số đơn vị thành phần"
            continue
        if flag in ANY_FLAGS:
            hits = [c for c, v, _s in member if v]
            values[flag] = bool(hits)
            detail = "" if len(codes) == 1 else f" ({len(hits)}/{len(codes)} đơn vị thành phần)"
        else:
            total = math.fsum(areas.get(c, 0.0) for c in codes)
            flagged = math.fsum(areas.get(c, 0.0) for c, v, _s in member if v)
            values[flag] = bool(total) and flagged > total / 2
            detail = "" if len(codes) == 1 else \
                f" ({flagged:.2f}/{total:.2f} km² diện tích các đơn vị thành phần)"
        reasons[flag] = (f"{label} — {where}{detail}" if values[flag]
                         else f"không {label} — {where}{detail}")
    return ResolvedFlags(values, reasons)


def _source_text(source: str, table: str) -> str:
    return f"theo {table}" if source == "unit_flags" else SOURCE_VI[source]


def layer_flag_values(units) -> tuple[dict, frozenset]:
    """``({flag: {code: value}}, flags the layer has a column for)`` of a unit set."""
    mapping = getattr(units, "field_mapping", {}) or {}
    lookup = units.lookup
    has = frozenset(f for f in ("mountainous", "border", "island", "red_river_delta", SHARE_FLAG)
                    if mapping.get(f))
    values = {f: getattr(lookup, f) for f in has}
    return values, has


def variant_reason(ruleset, result, flags: ResolvedFlags) -> str | None:
    """Why a standard's variant applied: the reasons of the set flags its condition tests."""
    variant_name = result.get("variant") if isinstance(result, dict) else getattr(result, "variant", None)
    if not variant_name:
        return None
    rule_id = result.get("rule") if isinstance(result, dict) else result.rule
    rule = next((r for r in getattr(ruleset, "rules", ()) if r.id == rule_id), None)
    variant = next((v for v in rule.variants if v.name == variant_name), None) if rule else None
    if variant is None:
        keys = [f for f in ALL_FLAGS if f in variant_name]
    else:
        keys = [key for key, expected in variant.condition_tests() if expected is True or key == "parent_kind"]
    texts = []
    for key in dict.fromkeys(keys):
        if key == "parent_kind":
            texts.append(SOURCE_VI["parent"])
        elif flags.get(key) and flags.reason(key):
            texts.append(flags.reason(key))
    return "; ".join(texts) if texts else None
