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

A flags table is a CSV file::

    code,mountainous,border,island,red_river_delta,ethnic_minority_share
    01840,1,0,0,0,0.42
    01849,có,,,,35%

Booleans: 1/0, true/false, yes/no, có/không, x (empty: not set, the next source decides).
Shares: a fraction 0..1 or a percentage (``35%`` or a number above 1).
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError, NotFoundError, OversizeInputError
from .text import fold

BOOLEAN_FLAGS = ("mountainous", "border", "island", "red_river_delta", "central_city", "coastal_poor")
SHARE_FLAG = "ethnic_minority_share"
ALL_FLAGS = BOOLEAN_FLAGS + (SHARE_FLAG,)
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
MAX_FLAG_ROWS = 100_000
MAX_FLAG_BYTES = 20 * 1024 * 1024

# Column names accepted for each flag (compared without diacritics, case or spaces).
_COLUMNS = {
    "code": ("code", "ma", "ma_xa", "maxa", "ma_dvhc", "unit_code"),
    "mountainous": ("mountainous", "mien_nui", "vung_cao", "highland"),
    "border": ("border", "bien_gioi"),
    "island": ("island", "hai_dao", "dao"),
    "red_river_delta": ("red_river_delta", "dong_bang_song_hong", "dbsh"),
    "central_city": ("central_city",),
    "coastal_poor": ("coastal_poor", "bai_ngang_ven_bien"),
    "ethnic_minority_share": ("ethnic_minority_share", "ty_le_dtts", "dtts_pct", "ethnic_minority_pct"),
}
_TRUE = {"1", "true", "yes", "y", "co", "x", "dung"}
_FALSE = {"0", "false", "no", "n", "khong", "sai"}


# ------------------------------------------------------------------------------------ reading
def read_flags_csv(source, *, name: str | None = None) -> dict[str, dict]:
    """Read a flags table (path, bytes or text) into ``{code: {flag: value}}`` (unset cells left out).

    Raises :class:`InputError` naming the row and column of the first bad cell.
    """
    if isinstance(source, (str, Path)) and not (isinstance(source, str) and "\n" in source):
        path = Path(source)
        name = name or path.name
        if not path.exists():
            raise InputError(f"flags table not found: {path}", hint="check the path of --flags")
        if path.stat().st_size > MAX_FLAG_BYTES:
            raise OversizeInputError(f"{name}: flags table is larger than {MAX_FLAG_BYTES // 2**20} MiB",
                                     hint="one row per unit is enough")
        data = path.read_bytes()
    else:
        data = source
    name = name or "flags table"
    if isinstance(data, bytes):
        if len(data) > MAX_FLAG_BYTES:
            raise OversizeInputError(f"{name}: flags table is larger than {MAX_FLAG_BYTES // 2**20} MiB",
                                     hint="one row per unit is enough")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(f"{name}: not UTF-8 text (byte {exc.start})",
                             hint="save the table as CSV UTF-8") from None
    else:
        text = data
    if "\x00" in text:
        raise InputError(f"{name}: binary data, not a CSV table", hint="save the table as CSV UTF-8")
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise InputError(f"{name}: the flags table is empty",
                         hint="first line: code,mountainous,border,island,red_river_delta,ethnic_minority_share")
    delimiter = max(",;\t", key=lines[0].count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader)
    columns = _map_columns(header, name)
    table: dict[str, dict] = {}
    for row_number, row in enumerate(reader, start=2):
        if row_number > MAX_FLAG_ROWS + 1:
            raise OversizeInputError(f"{name}: more than {MAX_FLAG_ROWS} rows", hint="one row per unit is enough")
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            raise InputError(f"{name}: row {row_number} has {len(row)} cells, the header has {len(header)}",
                             hint="check for an extra separator in that row", context={"row": row_number})
        code = _code(row[columns["code"]] if columns["code"] < len(row) else "")
        if not code:
            raise InputError(f"{name}: row {row_number} has no unit code", hint="fill the code column",
                             context={"row": row_number})
        if code in table:
            raise InputError(f"{name}: unit {code} is listed twice (row {row_number})", hint="keep one row per unit",
                             context={"row": row_number, "unit_code": code})
        values = {}
        for flag, index in columns.items():
            if flag == "code" or index >= len(row) or not row[index].strip():
                continue
            values[flag] = _cell(flag, row[index], name, row_number, header[index])
        table[code] = values
    return table


def check_flag_codes(table: dict[str, dict], units, *, name: str = "flags table") -> None:
    """Refuse a table that names units the layer does not have."""
    unknown = [code for code in table if code not in units.gdf.index]
    if unknown:
        raise NotFoundError(f"{name}: {len(unknown)} unit code(s) are not in the units layer: "
                            + ", ".join(unknown[:10]) + ("…" if len(unknown) > 10 else ""),
                            hint="use the GSO codes of the units layer, as text with leading zeros",
                            context={"unknown_codes": unknown[:100]})


def validate_flags(raw, *, where: str, shares: bool = True) -> dict:
    """Check a flags object of a scenario (context, a unit_flags row or a new unit's flags)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InputError(f"{where}: flags must be an object", hint='e.g. {"mountainous": true}')
    clean = {}
    for key, value in raw.items():
        if key not in ALL_FLAGS or (key == SHARE_FLAG and not shares):
            raise InputError(f"{where}: unknown flag {key!r}", hint="flags: " + ", ".join(ALL_FLAGS))
        if value is None:
            continue
        if key == SHARE_FLAG:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1 \
                    or math.isnan(value):
                raise InputError(f"{where}: ethnic_minority_share must be a fraction between 0 and 1, got {value!r}",
                                 hint="e.g. 0.42 for 42 %")
            clean[key] = float(value)
        else:
            if not isinstance(value, bool):
                raise InputError(f"{where}: flag {key} must be true or false, got {value!r}",
                                 hint=f'e.g. "{key}": true')
            clean[key] = value
    return clean


def _map_columns(header: list[str], name: str) -> dict[str, int]:
    folded = [fold(h).replace(" ", "_") for h in header]
    columns: dict[str, int] = {}
    for position, key in enumerate(folded):
        flag = next((f for f, names in _COLUMNS.items() if key in names), None)
        if flag is None:
            raise InputError(f"{name}: unknown column {header[position]!r}",
                             hint="columns: code, " + ", ".join(ALL_FLAGS), context={"column": header[position]})
        if flag in columns:
            raise InputError(f"{name}: two columns for {flag}", hint="keep one", context={"column": header[position]})
        columns[flag] = position
    if "code" not in columns:
        raise InputError(f"{name}: no code column", hint="first line: code,mountainous,border,…")
    if len(columns) == 1:
        raise InputError(f"{name}: no flag column", hint="add at least one of " + ", ".join(ALL_FLAGS))
    return columns


def _code(text: str) -> str:
    text = text.strip()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    # Spreadsheets drop leading zeros: 1840 → "01840" (GSO commune codes have 5 digits).
    if text.isdigit() and len(text) < 5:
        text = text.zfill(5)
    return text


def _cell(flag: str, text: str, name: str, row: int, column: str):
    raw = text.strip()
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
            raise InputError(f"{name}: row {row}, column {column}: {raw!r} is not a share",
                             hint="write a fraction 0..1 (0.42) or a percentage (42%)",
                             context={"row": row, "column": column})
        return value
    key = fold(raw)
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise InputError(f"{name}: row {row}, column {column}: {raw!r} is not yes/no",
                     hint="write 1 or 0 (có/không, true/false); leave the cell empty when unknown",
                     context={"row": row, "column": column})


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
                  own: dict | None = None, fixed: dict | None = None, flags_name: str | None = None
                  ) -> ResolvedFlags:
    """Resolve every flag of a unit made of existing units ``codes`` (see the module text).

    ``areas`` and ``populations`` are per code (the land that goes into the unit); ``layer_values``
    is ``{flag: {code: value}}`` for the columns the layer has (``layer_has``); ``own`` the new unit's
    own values; ``fixed`` values that no source may change (e.g. ``central_city`` from the parent kind).
    """
    unit_flags = unit_flags or {}
    layer_values = layer_values or {}
    context = context or {}
    own = own or {}
    fixed = fixed or {}
    codes = list(codes)
    values, reasons = {}, {}
    table = f"bảng cờ {flags_name}" if flags_name else SOURCE_VI["unit_flags"].removeprefix("theo ")
    for flag in ALL_FLAGS:
        label = FLAG_LABEL_VI[flag]
        if flag in fixed:
            values[flag] = fixed[flag]
            reasons[flag] = f"{label}: {SOURCE_VI['parent']}" if fixed[flag] else ""
            continue
        if own.get(flag) is not None:
            values[flag] = own[flag]
            reasons[flag] = f"{label} — {SOURCE_VI['own']}"
            continue
        member = [(c, *_member_value(c, flag, unit_flags=unit_flags, layer_values=layer_values,
                                     layer_has=layer_has, context=context)) for c in codes]
        sources = {s for _c, _v, s in member if s != "default"}
        if not member or not sources:
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
        conditions = list(variant.condition.all_of) + [kv for sub in variant.condition.any_of for kv in sub.all_of]
        keys = [key for key, expected in conditions if expected is True or key == "parent_kind"]
    texts = []
    for key in dict.fromkeys(keys):
        if key == "parent_kind":
            texts.append(SOURCE_VI["parent"])
        elif flags.get(key) and flags.reason(key):
            texts.append(flags.reason(key))
    return "; ".join(texts) if texts else None
