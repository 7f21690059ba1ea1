"""Population, area and region-flag tables joined to a units layer.

A statistics office sends figures as a spreadsheet (XLSX or CSV) with Vietnamese headers such as
"Mã xã", "Tên đơn vị", "Huyện/Quận", "Tỉnh", "Dân số (người)", "Diện tích (km²)". This module

- reads such a table (:func:`read_table`), finding the header row and each column by its header,
  compared case- and diacritic-insensitively (or named explicitly);
- joins it to a :class:`~diagioi.geo.units.UnitSet` by code, or by the normalised name inside the
  district/province (:func:`join_table`), and says what happened to every unit and every row in a
  :class:`JoinReport` (matched, unmatched both ways, ambiguous) — nothing is dropped silently;
- keeps the year and the source of each figure (``population_year``, ``population_source``).

Region flags (mountainous, border, island, red_river_delta, ethnic_minority_share) join the same way.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError, MissingColumnError
from .i18n import Message
from .text import fold, nfc

MAX_TABLE_BYTES = 50 * 1024 * 1024
MAX_TABLE_ROWS = 200_000
HEADER_SCAN_ROWS = 20

# Model field → header forms (after :func:`header_key`) a statistics office uses.
TABLE_HEADERS: dict[str, list[str]] = {
    "code": ["ma", "ma xa", "ma so", "ma dvhc", "ma don vi", "ma don vi hanh chinh", "ma phuong xa", "ma xa phuong",
             "ma hanh chinh", "code", "commune code", "unit code", "gso code"],
    "name": ["ten", "ten don vi", "ten xa", "ten dvhc", "ten don vi hanh chinh", "ten phuong xa", "ten xa phuong",
             "don vi", "don vi hanh chinh", "xa phuong", "phuong xa", "name", "commune", "unit"],
    "district": ["huyen", "huyen quan", "quan huyen", "ten huyen", "huyen thi xa thanh pho", "cap huyen",
                 "district"],
    "province": ["tinh", "ten tinh", "tinh thanh pho", "tinh thanh", "province"],
    "population": ["dan so", "tong dan so", "dan so trung binh", "so dan", "so nhan khau", "population"],
    "population_year": ["nam", "nam dan so", "nam so lieu", "year", "population year"],
    "population_source": ["nguon", "nguon so lieu", "nguon dan so", "source", "population source"],
    "official_area_km2": ["dien tich", "dien tich tu nhien", "tong dien tich", "dien tich km2", "area",
                          "area km2", "official area km2", "area km2 official"],
    "mountainous": ["mien nui", "vung cao", "mien nui vung cao", "mountainous"],
    "border": ["bien gioi", "border"],
    "island": ["hai dao", "dao", "island"],
    "red_river_delta": ["dong bang song hong", "dbsh", "red river delta"],
    "ethnic_minority_share": ["ty le dtts", "ty le dan toc thieu so", "dan toc thieu so", "dtts",
                              "ethnic minority share"],
}
FLAG_FIELDS = ("mountainous", "border", "island", "red_river_delta", "ethnic_minority_share")
FIGURE_FIELDS = ("population", "official_area_km2") + FLAG_FIELDS

# Type prefixes: full words with their diacritics (or in ASCII when the whole name is ASCII), and
# abbreviations written with a dot or in capitals ("P.", "TT", "TP."). "Phương Liễu" keeps its first word.
_UNIT_WORDS = {"thị trấn": "township", "phường": "ward", "xã": "commune", "đặc khu": "special_zone"}
_UNIT_ABBREVIATIONS = {"tt": "township", "p": "ward", "x": "commune"}
_PARENT_WORDS = {"thành phố trực thuộc trung ương": "central_city", "thành phố": "city", "thị xã": "town",
                 "huyện": "district", "quận": "urban_district", "tỉnh": "province"}
_PARENT_ABBREVIATIONS = {"tp": "city", "tx": "town", "h": "district", "q": "urban_district", "t": "province"}
_TONES = {"\u0300": "2", "\u0301": "1", "\u0303": "3", "\u0309": "4", "\u0323": "5"}  # huyền sắc ngã hỏi nặng
_YEAR = re.compile(r"\b(19[5-9]\d|20\d\d)\b")


def header_key(header: object) -> str:
    """"Dân số (người)" → "dan so nguoi"; "Mã  xã" → "ma xa"; "Huyện/Quận" → "huyen quan"."""
    text = fold(nfc(str(header))).replace("²", "2")
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


def _bare_header(header: object) -> tuple[str, int | None, str | None]:
    """A header without its parenthesised unit and year: ("dan so", 2024, "nguoi") for "Dân số năm 2024 (người)"."""
    text = str(header)
    units = " ".join(re.findall(r"\(([^)]*)\)", text))
    text = re.sub(r"\([^)]*\)", " ", text)
    year_match = _YEAR.search(text)
    year = int(year_match.group(1)) if year_match else None
    text = _YEAR.sub(" ", text)
    key = header_key(text)
    for tail in (" nam", " km2", " ha", " nguoi"):
        key = key.removesuffix(tail)
    return key, year, header_key(units) or None


def _syllable_key(word: str) -> str:
    """One syllable with its tone written after it, wherever the mark sits: "hoà" and "hòa" → "hoa2"."""
    decomposed = unicodedata.normalize("NFD", word)
    tone = "".join(_TONES[ch] for ch in decomposed if ch in _TONES)
    bare = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _TONES))
    return bare + tone


def _strip_prefix(text: str, parent: bool) -> tuple[str, str | None]:
    """Remove a type prefix from a name (NFC, original case); returns the rest and the kind it names."""
    words = _PARENT_WORDS if parent else _UNIT_WORDS
    abbreviations = _PARENT_ABBREVIATIONS if parent else _UNIT_ABBREVIATIONS
    lowered = text.lower()
    ascii_only = lowered.isascii()
    for word, kind in words.items():
        for form in ({word, fold(word)} if ascii_only else {word}):
            if lowered.startswith(form) and len(lowered) > len(form) and lowered[len(form)] in " .\u00a0":
                return text[len(form):].lstrip(" .\u00a0"), kind
    match = re.match(r"^([A-Za-z]{1,2})(\.\s*|\s+)(?=\S)", text)
    if match and match.group(1).lower() in abbreviations and (
            "." in match.group(2) or match.group(1).isupper()):
        return text[match.end():], abbreviations[match.group(1).lower()]
    return text, None


def _words(text: str) -> list[str]:
    text = text.lower().replace("\u00a0", " ")
    text = re.sub(r"[.,;:/\\()\-–_'\"]+", " ", text)
    return [w.lstrip("0") or "0" if w.isdigit() else w for w in text.split()]


def name_keys(name: object, *, parent: bool = False) -> tuple[str, str, str | None]:
    """Keys to match a unit name written in other forms.

    Returns ``(strict, loose, kind)``: *strict* keeps the tones (placed uniformly, so "Hòa" equals
    "Hoà") and đ; *loose* drops every diacritic (so "Dong" matches "Đông"). The type prefix
    ("Phường", "P.", "Xã", "X.", "Thị trấn", "TT.", or "Huyện", "TP.", "Quận"… when ``parent``) is
    removed and the kind it names returned; "Phường 01" and "P.1" give the same keys.
    """
    if name is None or (isinstance(name, float) and np.isnan(name)):
        return "", "", None
    text = nfc(str(name)).replace("\u00d0", "\u0110").replace("\u00f0", "\u0111").strip()
    rest, kind = _strip_prefix(text, parent)
    words = _words(rest)
    strict = " ".join(_syllable_key(w) for w in words)
    loose = " ".join(fold(w) for w in words)
    return strict, loose, kind


def normalise_code(value) -> tuple[str | None, bool]:
    """A GSO code as text: 1849 / 1849.0 / "1849" → ("01849", True); the flag says it was padded."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None, False
    if isinstance(value, (int, np.integer)) or (isinstance(value, float) and float(value).is_integer()):
        text = str(int(value))
    else:
        text = nfc(str(value)).strip()
        if re.fullmatch(r"\d+\.0+", text):
            text = text.split(".")[0]
    if not text:
        return None, False
    if text.isdigit() and len(text) < 5:
        return text.zfill(5), True
    return text, False


@dataclass
class Table:
    """A figures table: ``frame`` has model-field columns (those found), ``columns`` the source headers."""

    frame: pd.DataFrame
    source: str
    columns: dict[str, str]              # model field → source header
    header_row: int                      # 1-based row of the header in the file
    sheet: str | None = None
    year_from_header: int | None = None
    area_unit: str = "km2"

    def label(self) -> str:
        return Path(self.source).name + (f" [{self.sheet}]" if self.sheet else "")


def _read_rows(path: Path, sheet: str | None) -> tuple[list[list], str | None]:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises zipfile/KeyError/InvalidFileException for broken files
            raise InputError(Message("error.table_not_excel", {"file": path.name, "error": type(exc).__name__}),
                             hint=Message("hint.table_resave"), context={"file": str(path)}, code="input") from exc
        try:
            if sheet is not None:
                if sheet not in book.sheetnames:
                    raise InputError(Message("error.table_no_sheet", {"file": path.name, "sheet": repr(sheet)}),
                                     hint=Message("hint.table_sheets", {"sheets": ", ".join(book.sheetnames)}),
                                     context={"file": str(path), "sheet": sheet}, code="input")
                ws = book[sheet]
            else:
                ws = book.worksheets[0]
            rows = []
            for row in ws.iter_rows(values_only=True):
                rows.append(list(row))
                if len(rows) > MAX_TABLE_ROWS + HEADER_SCAN_ROWS:
                    raise _too_many_rows(path)
            return rows, ws.title
        finally:
            book.close()
    if suffix in (".csv", ".txt", ".tsv"):
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = raw.decode("cp1258")
            except UnicodeDecodeError as exc:
                raise InputError(Message("error.table_csv_encoding", {"file": path.name}),
                                 hint=Message("hint.table_csv_utf8"), context={"file": str(path)},
                                 code="input") from exc
        try:
            dialect = csv.Sniffer().sniff(text[:20000], delimiters=",;\t")
            delimiter = dialect.delimiter
        except csv.Error:
            delimiter = ","
        rows = []
        for row in csv.reader(io.StringIO(text), delimiter=delimiter):
            rows.append(row)
            if len(rows) > MAX_TABLE_ROWS + HEADER_SCAN_ROWS:
                raise _too_many_rows(path)
        return rows, None
    raise InputError(Message("error.table_format", {"file": path.name, "suffix": repr(path.suffix)}),
                     hint=Message("hint.table_format"), context={"file": str(path)}, code="input")


def _too_many_rows(path: Path) -> InputError:
    return InputError(Message("error.table_rows", {"file": path.name, "max": MAX_TABLE_ROWS}),
                      hint=Message("hint.table_split"), context={"file": str(path)}, code="input")


def _match_headers(headers: list, explicit: dict[str, str]) -> tuple[dict[str, int], dict]:
    found: dict[str, int] = {}
    meta: dict = {}
    keys = [header_key(h) if h is not None else "" for h in headers]
    for model_field, wanted in explicit.items():
        want = header_key(wanted)
        if want not in keys:
            raise MissingColumnError(f"table column {wanted!r} (for {model_field}) is not in the header row",
                                     hint="columns in the table: " + ", ".join(str(h) for h in headers if h),
                                     context={"field": model_field})
        found[model_field] = keys.index(want)
    for index, header in enumerate(headers):
        if header is None or index in found.values():
            continue
        bare, year, unit = _bare_header(header)
        for model_field, forms in TABLE_HEADERS.items():
            if model_field in found:
                continue
            if keys[index] in forms or bare in forms:
                found[model_field] = index
                if model_field == "population" and year:
                    meta["year"] = year
                if model_field == "official_area_km2" and (unit == "ha" or keys[index].endswith(" ha")):
                    meta["area_unit"] = "ha"
                break
    return found, meta


def read_table(path: str | Path, *, sheet: str | None = None, columns: dict[str, str] | None = None) -> Table:
    """Read a CSV/XLSX table of figures; ``columns`` maps model fields to headers to use explicitly.

    The header row is the first of the top rows in which a name or code column and a figure
    column are recognised (title rows above it are skipped).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"table not found: {path}", hint="check the path", context={"file": str(path)})
    if path.stat().st_size > MAX_TABLE_BYTES:
        raise InputError(Message("error.table_size", {"file": path.name, "mb": MAX_TABLE_BYTES // 2**20}),
                         hint=Message("hint.table_columns"), context={"file": str(path)}, code="input")
    explicit = dict(columns or {})
    unknown = set(explicit) - set(TABLE_HEADERS)
    if unknown:
        raise InputError(f"unknown table field(s): {', '.join(sorted(unknown))}",
                         hint="fields: " + ", ".join(TABLE_HEADERS))
    rows, sheet_title = _read_rows(path, sheet)
    best = None
    explicit_error = None
    for r, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        try:
            found, meta = _match_headers(list(row), explicit)
        except MissingColumnError as error:
            explicit_error = explicit_error or error
            continue
        keyed = "code" in found or "name" in found
        figures = [f for f in FIGURE_FIELDS if f in found]
        if keyed and figures:
            best = (r, found, meta)
            break
    if best is None and explicit_error is not None:
        raise explicit_error
    if best is None:
        raise MissingColumnError(
            Message("error.table_no_header", {"file": path.name, "rows": HEADER_SCAN_ROWS}),
            hint=Message("hint.table_header"), context={"file": str(path)}, code="missing_column")
    r, found, meta = best
    body = rows[r + 1:]
    data = {model_field: [row[i] if i < len(row) else None for row in body] for model_field, i in found.items()}
    frame = pd.DataFrame(data, dtype=object)
    frame.index = pd.RangeIndex(r + 2, r + 2 + len(frame))  # 1-based row numbers in the file
    blank = frame.apply(lambda s: s.map(lambda v: v is None or (isinstance(v, str) and not v.strip())), axis=0).all(axis=1)
    frame = frame[~blank]
    headers = list(rows[r])
    return Table(frame=frame, source=str(path), columns={f: str(headers[i]) for f, i in found.items()},
                 header_row=r + 1, sheet=sheet_title, year_from_header=meta.get("year"),
                 area_unit=meta.get("area_unit", "km2"))


@dataclass
class JoinReport:
    """What happened to every unit and every row of a table join."""

    join_on: str
    table: str
    matched: int = 0
    pairs: dict[str, int] = field(default_factory=dict)          # unit code → table row
    unmatched_units: list[dict] = field(default_factory=list)
    unmatched_rows: list[dict] = field(default_factory=list)
    ambiguous: list[dict] = field(default_factory=list)
    padded_codes: list[dict] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    fields_joined: list[str] = field(default_factory=list)
    loose_matches: int = 0

    def to_dict(self) -> dict:
        """The ``"join"`` member of ``diagioi units --json``."""
        return {"join_on": self.join_on, "table": self.table, "columns": self.columns,
                "fields": self.fields_joined, "matched": self.matched,
                "matched_without_diacritics": self.loose_matches,
                "unmatched_units": self.unmatched_units, "unmatched_rows": self.unmatched_rows,
                "ambiguous": self.ambiguous, "padded_codes": self.padded_codes}

    def lines_vi(self, limit: int = 30) -> list[str]:
        """The report in words, for the terminal (at most ``limit`` listed cases; all of them are in ``to_dict``)."""
        lines = [f"Ghép bảng {self.table} theo {'mã' if self.join_on == 'code' else 'tên'}: "
                 f"{self.matched} đơn vị khớp, {len(self.unmatched_units)} đơn vị không có dòng, "
                 f"{len(self.unmatched_rows)} dòng không có đơn vị, {len(self.ambiguous)} trường hợp không rõ ràng."]
        for u in self.unmatched_units:
            lines.append(f"  đơn vị không có trong bảng: {u['code']} {u['name']} ({u.get('district') or '—'})")
        for r in self.unmatched_rows:
            lines.append(f"  dòng {r['row']} không khớp đơn vị nào: {r.get('code') or ''} {r.get('name') or ''} "
                         f"({r.get('district') or '—'})")
        for a in self.ambiguous:
            lines.append(f"  không rõ ràng: {a['reason']}: dòng {a['rows']} ↔ đơn vị {a['units']}")
        for p in self.padded_codes:
            lines.append(f"  dòng {p['row']}: mã {p['raw']!r} đọc là {p['code']!r} (thêm số 0 ở đầu)")
        if len(lines) > limit + 1:
            hidden = len(lines) - 1 - limit
            lines = lines[:limit + 1] + [f"  … và {hidden} trường hợp nữa (đầy đủ trong --json, mục \"join\")"]
        return lines


def _text(value) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = nfc(str(value)).strip()
    return text or None


def _group_key(district, province, use_district: bool, use_province: bool, strict: bool) -> tuple:
    key = []
    if use_district:
        keys = name_keys(district, parent=True)
        key.append(keys[0] if strict else keys[1])
    if use_province:
        keys = name_keys(province, parent=True)
        key.append(keys[0] if strict else keys[1])
    return tuple(key)


def _match_by_name(units: pd.DataFrame, table: pd.DataFrame, report: JoinReport) -> None:
    use_district = "district" in table.columns and units["district"].notna().any()
    use_province = "province" in table.columns and units["province"].notna().any()
    open_units = list(units.index)
    open_rows = list(table.index)
    for strict in (True, False):
        unit_keys: dict[tuple, list[str]] = {}
        for code in open_units:
            u = units.loc[code]
            keys = name_keys(u["name"])
            key = _group_key(u["district"], u["province"], use_district, use_province, strict) + (
                keys[0] if strict else keys[1],)
            unit_keys.setdefault(key, []).append(code)
        row_keys: dict[tuple, list[int]] = {}
        for row in open_rows:
            t = table.loc[row]
            keys = name_keys(t.get("name"))
            key = _group_key(t.get("district"), t.get("province"), use_district, use_province, strict) + (
                keys[0] if strict else keys[1],)
            row_keys.setdefault(key, []).append(row)
        for key, rows in row_keys.items():
            codes = unit_keys.get(key)
            if not codes:
                continue
            if len(rows) > 1 or len(codes) > 1:
                # The type prefix ("Thị trấn X" vs "Xã X" in one district) may tell them apart.
                by_kind = {}
                for row in rows:
                    kind = name_keys(table.at[row, "name"])[2]
                    by_kind.setdefault(kind, []).append(row)
                resolved = []
                if None not in by_kind:
                    for kind, kind_rows in by_kind.items():
                        kind_codes = [c for c in codes if units.at[c, "kind"] == kind]
                        if len(kind_rows) == 1 and len(kind_codes) == 1:
                            resolved.append((kind_codes[0], kind_rows[0]))
                if len(resolved) == len(rows) == len(codes):
                    for code, row in resolved:
                        _pair(report, code, row, loose=not strict)
                        open_units.remove(code)
                        open_rows.remove(row)
                    continue
                if strict:
                    continue  # the loose pass reports it once
                report.ambiguous.append({
                    "reason": "cùng tên trong cùng huyện/tỉnh" if len(codes) > 1 else "nhiều dòng cùng tên",
                    "name": _text(table.at[rows[0], "name"]), "rows": [int(r) for r in rows], "units": codes})
                for code in codes:
                    open_units.remove(code)
                for row in rows:
                    open_rows.remove(row)
                continue
            _pair(report, codes[0], rows[0], loose=not strict)
            open_units.remove(codes[0])
            open_rows.remove(rows[0])


def _pair(report: JoinReport, code: str, row: int, *, loose: bool) -> None:
    report.pairs[code] = int(row)
    report.matched += 1
    report.loose_matches += int(loose)


def _match_by_code(units: pd.DataFrame, table: pd.DataFrame, report: JoinReport) -> None:
    codes_of_rows: dict[str, list[int]] = {}
    for row, raw in table["code"].items():
        code, padded = normalise_code(raw)
        if code is None:
            continue
        if padded:
            report.padded_codes.append({"row": int(row), "raw": str(raw), "code": code})
        codes_of_rows.setdefault(code, []).append(row)
    for code, rows in codes_of_rows.items():
        if code not in units.index:
            continue
        if len(rows) > 1:
            report.ambiguous.append({"reason": "mã lặp lại trong bảng", "name": _text(table.at[rows[0], "name"])
                                     if "name" in table.columns else None,
                                     "rows": [int(r) for r in rows], "units": [code]})
            continue
        _pair(report, code, rows[0], loose=False)


def join_table(unit_set, table: Table, *, join_on: str = "code", fields: list[str] | None = None,
               population_year: int | None = None, population_source: str | None = None):
    """Join ``table`` to ``unit_set``; returns ``(new UnitSet, JoinReport)``.

    Matched units take the table's figures (population, official area, flags — those the table
    has, or only ``fields``) with the table as their source; every other unit keeps the layer's
    figure and its own source, and is listed in the report. ``join_on``: "code" or "name"
    (normalised name inside the district and province when the table has those columns).
    """
    from .units import UnitSet
    from .validity import GeometryIssue

    if join_on not in ("code", "name"):
        raise InputError(f"--join-on must be code or name, not {join_on!r}", hint="use --join-on code|name")
    frame = table.frame
    if join_on not in frame.columns:
        raise MissingColumnError(f"{table.label()}: no {'code' if join_on == 'code' else 'name'} column to join on",
                                 hint=f"columns found: {table.columns}; name it (e.g. 'Mã xã' or 'Tên đơn vị') "
                                      f"or pass --table-column {join_on}=HEADER, or --join-on "
                                      f"{'name' if join_on == 'code' else 'code'}",
                                 context={"file": table.source})
    available = [f for f in FIGURE_FIELDS if f in frame.columns]
    fields = [f for f in (fields or available) if f in frame.columns]
    if not fields:
        raise MissingColumnError(f"{table.label()}: no figure column (Dân số, Diện tích or a region flag)",
                                 hint="name the column e.g. 'Dân số' or pass --table-column population=HEADER",
                                 context={"file": table.source})
    report = JoinReport(join_on=join_on, table=table.label(), columns=table.columns, fields_joined=fields)
    gdf = unit_set.gdf.copy()
    if join_on == "code":
        _match_by_code(gdf, frame, report)
    else:
        _match_by_name(gdf, frame, report)
    matched_rows = set(report.pairs.values())
    ambiguous_rows = {r for a in report.ambiguous for r in a["rows"]}
    ambiguous_units = {c for a in report.ambiguous for c in a["units"]}
    for code in gdf.index:
        if code not in report.pairs and code not in ambiguous_units:
            report.unmatched_units.append({"code": code, "name": gdf.at[code, "name"],
                                           "district": _text(gdf.at[code, "district"])})
    for row in frame.index:
        if row not in matched_rows and row not in ambiguous_rows:
            t = frame.loc[row]
            report.unmatched_rows.append({"row": int(row), "code": normalise_code(t.get("code"))[0],
                                          "name": _text(t.get("name")), "district": _text(t.get("district"))})

    issues = list(unit_set.issues)
    year_default = population_year or table.year_from_header
    label = population_source or table.label()
    codes = list(report.pairs)
    rows = [report.pairs[c] for c in codes]
    if "population" in fields:
        values = pd.to_numeric(frame.loc[rows, "population"].map(_number), errors="coerce").to_numpy(dtype=float)
        if "population_year" in frame.columns:
            years = pd.to_numeric(frame.loc[rows, "population_year"].map(_number), errors="coerce").to_numpy(dtype=float)
            years = np.where(np.isnan(years), np.nan if year_default is None else year_default, years)
        else:
            years = np.full(len(rows), np.nan if year_default is None else float(year_default))
        sources = (frame.loc[rows, "population_source"].map(_text).tolist()
                   if "population_source" in frame.columns else [None] * len(rows))
        for code, row, value, year, source in zip(codes, rows, values, years, sources):
            if np.isnan(value) or value < 0:
                issues.append(GeometryIssue(code, gdf.at[code, "name"], "missing population", action="reported",
                                            detail=f"{label} dòng {row}: không đọc được số dân; giữ số của lớp"))
                continue
            gdf.at[code, "population"] = value
            gdf.at[code, "population_year"] = year
            gdf.at[code, "population_source"] = (f"{source} ({label} dòng {row})" if source
                                                 else f"{label}:{table.columns['population']} dòng {row}")
        if year_default is None and "population_year" not in frame.columns:
            issues.append(GeometryIssue("*", "*", "population year unknown", action="reported",
                                        detail=f"{label}: không có cột năm; dùng --population-year"))
    if "official_area_km2" in fields:
        values = pd.to_numeric(frame.loc[rows, "official_area_km2"].map(_number), errors="coerce").to_numpy(dtype=float)
        if table.area_unit == "ha":
            values = values / 100.0
        for code, row, value in zip(codes, rows, values):
            if np.isnan(value) or value <= 0:
                continue
            gdf.at[code, "official_area_km2"] = value
            gdf.at[code, "official_area_source"] = f"{label}:{table.columns['official_area_km2']} dòng {row}"
    from .io import _to_bool, _to_share

    for flag in FLAG_FIELDS:
        if flag not in fields:
            continue
        raw = frame.loc[rows, flag]
        values = _to_share(raw, len(rows)) if flag == "ethnic_minority_share" else _to_bool(raw, len(rows))
        for code, value in zip(codes, values):
            gdf.at[code, flag] = value
    for u in report.unmatched_units:
        issues.append(GeometryIssue(u["code"], u["name"], "not in table", action="reported",
                                    detail=f"{label}: không có dòng khớp; giữ số liệu của lớp "
                                           f"({gdf.at[u['code'], 'population_source'] or 'không có'})"))
    result = UnitSet(gdf, source=unit_set.source, issues=issues, field_mapping=dict(unit_set.field_mapping),
                     source_crs=unit_set.source_crs)
    for attr in ("level", "level_reason", "level_reason_message"):
        if hasattr(unit_set, attr):
            setattr(result, attr, getattr(unit_set, attr))
    return result, report


def _number(value):
    """Numbers as a statistics office writes them: 12.345 (thousands dot), 12 345, "1,5" (decimal comma)."""
    if value is None or isinstance(value, (int, float, np.integer, np.floating)):
        return value
    text = str(value).strip().replace("\u00a0", "").replace(" ", "")
    if not text:
        return None
    if re.fullmatch(r"-?\d{1,3}(\.\d{3})+", text):       # 12.345 or 1.234.567
        return text.replace(".", "")
    if re.fullmatch(r"-?\d{1,3}(,\d{3})+", text):        # 12,345
        return text.replace(",", "")
    if re.fullmatch(r"-?\d+,\d+", text):                  # 1,5 → 1.5
        return text.replace(",", ".")
    return text
