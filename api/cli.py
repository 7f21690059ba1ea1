"""The ``diagioi`` command line: inspect units, evaluate scenarios, export tables, run the demo, serve.

An outer adapter like the API: it reads files through geo/, prints tables or the stable JSON
forms, and maps every DiagioiError to one line of text and exit code 2 (no traceback).
"""
from __future__ import annotations

import json
import logging
import re
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from diagioi.geo.errors import DiagioiError
from diagioi.geo.i18n import LANGUAGES, Message

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="diagioi — merging Vietnamese wards and communes: areas, populations, standards, exports.")
console = Console(stderr=True)
out = Console(width=None if sys.stdout.isatty() else 180)

FieldOpt = Annotated[str | None, typer.Option(help="source column for this field")]
LangOpt = Annotated[str, typer.Option("--lang", help="language of what is printed and written: vi | en")]


def _progress():
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                    transient=True, disable=not console.is_terminal)


def _fail(error: DiagioiError, lang: str = "vi") -> None:
    """One ``error:`` line and one ``hint:`` line (the stable prefixes scripts read), in the reader's language."""
    lang = lang if lang in LANGUAGES else "vi"
    console.print(f"[bold red]error:[/] {error.detail_in(lang)}", highlight=False)
    hint = error.hint_in(lang)
    if hint:
        console.print(f"[yellow]hint:[/] {hint}", highlight=False)
    issues = getattr(error, "issues", None)
    for issue in (issues or [])[:20]:
        console.print(f"  - {issue}", highlight=False)
    raise typer.Exit(2)


StrictOpt = Annotated[bool, typer.Option(
    "--strict", help="exit with code 1 when the data has reported problems (duplicate codes, missing "
                     "population, repaired geometry…)")]


def _check_strict(unit_set, strict: bool, lang: str = "vi") -> None:
    """With --strict, reported data problems end the command with exit code 1 (after its output)."""
    if not strict or not unit_set.issues:
        return
    kinds = sorted({issue.problem for issue in unit_set.issues})
    console.print(f"[bold red]error:[/] {_t('error.strict', lang, n=len(unit_set.issues), kinds='; '.join(kinds[:6]))}",
                  highlight=False)
    console.print(f"[yellow]hint:[/] {_t('hint.strict', lang)}", highlight=False)
    raise typer.Exit(1)


def _read(path: Path, lang: str = "vi", **fields):
    from diagioi.geo.io import read_units

    with _progress() as progress:
        progress.add_task(_t("cli.progress.reading", lang, file=path.name), total=None)
        return read_units(path, **fields)


TableOpt = Annotated[Path | None, typer.Option("--table", help="population/area table (.xlsx or .csv) to join")]
SheetOpt = Annotated[str | None, typer.Option("--sheet", help="sheet of the --table workbook (default: the first)")]
JoinOnOpt = Annotated[str, typer.Option("--join-on", help="join the table by code or by name (within district/province)")]
TableColumnOpt = Annotated[list[str] | None, typer.Option(
    "--table-column", help="FIELD=HEADER for a table column not found by its header, e.g. population='Dân số 2024'")]
FlagsOpt = Annotated[Path | None, typer.Option("--flags", help="table of region flags (miền núi, biên giới, hải đảo, "
                                                                  "ĐBSH, tỷ lệ DTTS) joined like --table")]
YearOpt = Annotated[int | None, typer.Option("--population-year", help="year of the table's population figures")]
FlagsJoinOpt = Annotated[str | None, typer.Option("--flags-join-on", help="join the flags table by code or name "
                                                                             "(default: as --join-on)")]


def _join_tables(unit_set, table, sheet, join_on, table_columns, flags, population_year, flags_join_on=None):
    """Join the population table and the flags table; returns the unit set and the join reports."""
    from diagioi.geo.tables import FLAG_FIELDS, join_table, read_table

    columns = {}
    for item in table_columns or []:
        if "=" not in item:
            raise DiagioiError(Message("error.cli_table_column", {"item": repr(item)}),
                               hint=Message("hint.example", {"example": "--table-column population='Dân số 2024'"}))
        key, header = item.split("=", 1)
        columns[key.strip()] = header.strip()
    reports = {}
    if table is not None:
        unit_set, report = join_table(unit_set, read_table(table, sheet=sheet, columns=columns), join_on=join_on,
                                      population_year=population_year)
        reports["join"] = report
    if flags is not None:
        unit_set, report = join_table(unit_set, read_table(flags, columns=columns), join_on=flags_join_on or join_on,
                                      fields=list(FLAG_FIELDS))
        reports["flags_join"] = report
    return unit_set, reports


def _fields(code_field, name_field, kind_field, population_field, area_field, crs, encoding, layer, no_repair,
            level=None):
    fields = dict(code_field=code_field, name_field=name_field, kind_field=kind_field,
                  population_field=population_field, area_field=area_field, crs=crs, encoding=encoding,
                  layer=layer, repair=not no_repair)
    if level is not None:
        fields["level"] = level
    return fields


LEVEL_VI = {"commune": "cấp xã", "district": "cấp huyện", "province": "cấp tỉnh"}


def _fmt(value, digits=2, lang="vi"):
    """A figure as the reader writes it (1.234,5 in Vietnamese); counts without decimals."""
    from diagioi.geo.i18n import format_number

    if value is None:
        return "—"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format_number(value, 0 if isinstance(value, int) else digits, lang)
    return str(value)


def _t(key: str, lang: str, **params) -> str:
    from diagioi.geo.i18n import translate

    return translate(key, lang, **params)


def _wrong_suffix(path: Path, suffix: str, example: str) -> DiagioiError:
    return DiagioiError(Message("error.cli_out_suffix", {"file": path.name, "suffix": suffix}),
                        hint=Message("hint.example", {"example": f"--out {example}"}))


def _level_text(level: str) -> dict[str, str]:
    """A layer's level in the reader's words (a catalogue parameter)."""
    return {"vi": LEVEL_VI.get(level, level), "en": level}


def _check_lang(lang: str) -> None:
    if lang not in LANGUAGES:
        _fail(DiagioiError(Message("error.unknown_language", {"lang": repr(lang)}), hint=Message("hint.cli_language")))


@app.command()
def units(
    file: Annotated[Path, typer.Argument(help="ward/commune layer: GeoJSON, GeoPackage or Shapefile")],
    as_json: Annotated[bool, typer.Option("--json", help="print the stable JSON form")] = False,
    code_field: FieldOpt = None, name_field: FieldOpt = None, kind_field: FieldOpt = None,
    population_field: FieldOpt = None, area_field: FieldOpt = None,
    crs: Annotated[str | None, typer.Option(help="CRS to assume when the file declares none, e.g. EPSG:3405")] = None,
    encoding: Annotated[str | None, typer.Option(help="DBF text encoding: utf-8|cp1258|tcvn3|vni")] = None,
    layer: Annotated[str | None, typer.Option(help="layer name in a GeoPackage")] = None,
    no_repair: Annotated[bool, typer.Option("--no-repair", help="refuse invalid geometries instead of repairing")] = False,
    plane_area: Annotated[bool, typer.Option("--plane-area", help="also give the area in the VN-2000 TM-3 plane")] = False,
    plane_crs: Annotated[str | None, typer.Option(
        "--plane-crs", help="measure the plane area in this projected CRS instead of each province's TM-3 zone")] = None,
    table_path: TableOpt = None, sheet: SheetOpt = None, join_on: JoinOnOpt = "code",
    table_column: TableColumnOpt = None, flags: FlagsOpt = None, population_year: YearOpt = None,
    flags_join_on: FlagsJoinOpt = None,
    level: Annotated[str | None, typer.Option("--level", help="commune|district|province (default: detected)")] = None,
    out_path: Annotated[Path | None, typer.Option("--out", help="write the units with the joined figures (.gpkg), "
                                                                   "to use with evaluate --units or serve --units")] = None,
    parents: Annotated[Path | None, typer.Option("--parents", help="a district/province layer: fill missing "
                                                                      "districts/provinces, list disagreements")] = None,
    strict: StrictOpt = False,
    lang: LangOpt = "vi",
) -> None:
    """List the units of a layer with computed (geodesic) and official area, population and density."""
    _check_lang(lang)
    try:
        unit_set = _read(file, lang, **_fields(code_field, name_field, kind_field, population_field, area_field,
                                         crs, encoding, layer, no_repair, level))
        unit_set, join_reports = _join_tables(unit_set, table_path, sheet, join_on, table_column, flags,
                                                population_year, flags_join_on)
        parents_report = None
        if parents is not None:
            from diagioi.geo.parents import assign_parents

            unit_set, parents_report = assign_parents(unit_set, _read(parents, lang, crs=crs, encoding=encoding))
        if out_path is not None:
            from diagioi.geo.io import write_units

            if out_path.suffix.lower() != ".gpkg":
                raise _wrong_suffix(out_path, ".gpkg", "units.gpkg")
            out_path.parent.mkdir(parents=True, exist_ok=True)
            write_units(unit_set, out_path)
        records = unit_set.to_records()
        if plane_crs:
            from diagioi.geo.crs import require_crs

            plane_obj = require_crs(plane_crs, source="--plane-crs")
            zones = {code: (plane_crs, "--plane-crs") for code in unit_set.gdf.index}
            plane = unit_set.plane_area_km2(plane_obj) if plane_area else None
        else:
            frame = unit_set.plane_crs()
            zones = dict(zip(frame.index, zip(frame["plane_crs"], frame["plane_crs_basis"])))
            plane = unit_set.plane_area_km2() if plane_area else None
        for record in records:
            record["plane_crs"], record["plane_crs_basis"] = zones[record["code"]]
            if plane is not None:
                record["plane_area_km2"] = round(float(plane[record["code"]]), 4)
    except DiagioiError as error:
        _fail(error, lang)
    if as_json:
        payload = {"source": str(file), "crs": unit_set.source_crs, "level": unit_set.level,
                   "level_reason": unit_set.level_reason,
                   "area_source": _t("source.area_computed", lang),
                   "units": records, "issues": [i.to_dict() for i in unit_set.issues]}
        payload.update({key: report.to_dict() for key, report in join_reports.items()})
        if parents_report is not None:
            payload["parents"] = parents_report
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
        _check_strict(unit_set, strict, lang)
        return
    table = Table(title=_t("cli.units_title", lang, file=file.name, n=len(records)))
    for key in ("code", "name", "kind"):
        table.add_column(_t(f"cli.col.{key}", lang))
    for key in ("area", "official_area", "difference", "population", "density"):
        table.add_column(_t(f"cli.col.{key}", lang), justify="right")
    for r in records:
        flag = " ⚠" if r["area_differs"] else ""
        table.add_row(r["code"], r["name"], _kind_text(r["kind"], lang), _fmt(r["area_km2"], lang=lang),
                      _fmt(r["official_area_km2"], lang=lang), _fmt(r["area_difference_pct"], 1, lang) + flag,
                      _fmt(r["population"], 0, lang), _fmt(r["density"], 0, lang))
    out.print(table)
    if unit_set.level != "commune":
        console.print(_t("cli.parent_layer", lang, level=_level_text(unit_set.level), reason=unit_set.level_reason_message or unit_set.level_reason),
                      highlight=False)
    sources = {}
    for r in records:
        key = (re.sub(r" dòng \d+\)?$", "", r["population_source"] or _t("cli.no_source", lang)),
               r["population_year"])
        sources[key] = sources.get(key, 0) + 1
    for (source, year), count in sources.items():
        line = (_t("cli.population_source", lang, source=source, year=str(year), n=count) if year
                else _t("cli.population_source_no_year", lang, source=source, n=count))
        console.print(line, highlight=False)
    if parents_report is not None:
        level_vi = "huyện" if parents_report["level"] == "district" else "tỉnh"
        console.print(f"Đơn vị cha ({parents.name}): {parents_report['n_filled']} đơn vị được điền {level_vi}, "
                      f"{parents_report['n_agree']} khớp, {len(parents_report['disagreements'])} khác với hình học, "
                      f"{len(parents_report['outside'])} không nằm trong {level_vi} nào.", highlight=False)
        for d in parents_report["disagreements"][:30]:
            console.print(f"  {d['code']} {d['name']}: lớp ghi {d['in_layer']}, theo hình học {d['by_geometry']} "
                          f"({d['share']:.0%} diện tích)", highlight=False)
    for report in join_reports.values():
        for line in report.lines_vi():
            console.print(line, highlight=False)
    if out_path is not None:
        console.print(_t("cli.wrote", lang, path=str(out_path)), highlight=False)
    if unit_set.issues:
        console.print(_t("cli.issues", lang, n=len(unit_set.issues)), highlight=False)
        for issue in unit_set.issues[:30]:
            console.print(f"  - {issue}", highlight=False)
    _check_strict(unit_set, strict, lang)


@app.command()
def topology(
    file: Annotated[Path, typer.Argument(help="ward/commune layer: GeoJSON, GeoPackage or Shapefile")],
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    out_path: Annotated[Path | None, typer.Option("--out", help="write the problems to a GeoPackage (.gpkg)")] = None,
    repair: Annotated[bool, typer.Option("--repair", help="snap and make a valid coverage (only when asked)")] = False,
    tolerance: Annotated[float, typer.Option("--tolerance", help="repair: widest gap filled, in metres")] = 5.0,
    snap: Annotated[float | None, typer.Option("--snap", help="repair: snap vertices closer than this, metres (default: automatic, tiny)")] = None,
    out_fixed: Annotated[Path | None, typer.Option("--out-fixed", help="repair: write the repaired layer (.gpkg)")] = None,
    min_area: Annotated[float, typer.Option("--min-area", help="smallest overlap/gap reported, m²")] = 1.0,
    sliver_width: Annotated[float, typer.Option("--sliver-width", help="overlaps/gaps narrower than this (m) are slivers")] = 50.0,
    code_field: FieldOpt = None, name_field: FieldOpt = None, area_field: FieldOpt = None,
    crs: Annotated[str | None, typer.Option(help="CRS to assume when the file declares none, e.g. EPSG:3405")] = None,
    encoding: Annotated[str | None, typer.Option(help="DBF text encoding: utf-8|cp1258|tcvn3|vni")] = None,
    layer: Annotated[str | None, typer.Option(help="layer name in a GeoPackage")] = None,
    lang: LangOpt = "vi",
) -> None:
    """Gaps, overlaps, slivers, self-intersections, duplicates and area mismatches of a layer; optional repair."""
    _check_lang(lang)
    from diagioi.geo.io import write_units
    from diagioi.geo.topology import PROBLEM_LABEL_VI, check_topology, repair_coverage, write_problems_gpkg

    try:
        for path in (out_path, out_fixed):
            if path is not None and path.suffix.lower() != ".gpkg":
                raise _wrong_suffix(path, ".gpkg", "problems.gpkg")
        if out_fixed is not None and not repair:
            raise DiagioiError(Message("error.cli_needs", {"option": "--out-fixed", "needed": "--repair"}),
                               hint=Message("hint.cli_add", {"options": {"vi": "--repair --tolerance MÉT",
                                                                         "en": "--repair --tolerance METRES"}}))
        unit_set = _read(file, lang, **_fields(code_field, name_field, None, None, area_field, crs, encoding, layer, False))
        with _progress() as progress:
            progress.add_task(_t("cli.progress.topology", lang), total=None)
            report = check_topology(unit_set, min_area_m2=min_area, sliver_width_m=sliver_width)
            data = report.to_dict()
            if repair:
                fixed, repair_data = repair_coverage(unit_set, tolerance_m=tolerance, snap_m=snap)
                after = check_topology(fixed, min_area_m2=min_area, sliver_width_m=sliver_width)
                repair_data["summary_after"] = after.summary
                data["repair"] = repair_data
                if out_fixed is not None:
                    out_fixed.parent.mkdir(parents=True, exist_ok=True)
                    write_units(fixed, out_fixed)
            if out_path is not None:
                out_path.parent.mkdir(parents=True, exist_ok=True)
                write_problems_gpkg(report, out_path)
    except DiagioiError as error:
        _fail(error, lang)
    if as_json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    else:
        s = data["summary"]
        out.print(f"{file.name}: {s['n_units']} đơn vị — {s['n_overlaps']} chồng lấn ({_fmt(s['overlap_km2'], 3)} km²), "
                  f"{s['n_gaps']} khe hở ({_fmt(s['gap_km2'], 3)} km²), {s['n_slivers']} mảnh hẹp < {_fmt(s['sliver_width_m'], 0)} m, "
                  f"{s['n_self_intersections']} tự cắt, {s['n_duplicate_codes']} trùng mã, "
                  f"{s['n_duplicate_geometries']} trùng hình, {s['n_area_mismatches']} lệch diện tích > 1 % "
                  f"(đo trong mặt phẳng đồng diện tích, m²)", highlight=False)
        largest = sorted(report.problems, key=lambda p: -(p.area_m2 or 0))[:15]
        if largest:
            grid = Table(title="Vấn đề lớn nhất")
            for column in ("Loại", "Đơn vị", "Diện tích (m²)", "Vị trí (kinh độ, vĩ độ)"):
                grid.add_column(column)
            for p in largest:
                grid.add_row(PROBLEM_LABEL_VI[p.kind] + (" (hẹp)" if p.sliver else ""),
                             ", ".join(f"{c} {n}" for c, n in zip(p.units, p.names)),
                             _fmt(p.area_m2, 0), f"{p.location[0]:.5f}, {p.location[1]:.5f}" if p.location else "—")
            out.print(grid)
        if repair:
            r = data["repair"]
            a = r["summary_after"]
            out.print(f"Sửa (dung sai {_fmt(r['tolerance_m'], 1)} m): {r['n_changed']} đơn vị đổi hình; tổng diện tích "
                      f"{_fmt(r['area_km2_before'], 3)} → {_fmt(r['area_km2_after'], 3)} km²; sau sửa: "
                      f"{a['n_overlaps']} chồng lấn, {a['n_gaps']} khe hở ({_fmt(a['gap_km2'], 3)} km²); "
                      f"lớp là một phủ hợp lệ: {'có' if r['coverage_valid'] else 'không'}", highlight=False)
    for path in (out_path, out_fixed):
        if path is not None:
            console.print(_t("cli.wrote", lang, path=str(path)), highlight=False)


@app.command()
def crosswalk(
    old_file: Annotated[Path, typer.Argument(help="the old units layer (before the arrangement)")],
    new_file: Annotated[Path, typer.Argument(help="the new units layer (after the arrangement)")],
    mapping: Annotated[Path | None, typer.Option("--mapping", help="a mapping CSV old_code,new_code[,merge_type] to compare with")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the crosswalk as JSON")] = False,
    out_path: Annotated[Path | None, typer.Option("--out", help="write the crosswalk as CSV")] = None,
    crs: Annotated[str | None, typer.Option(help="CRS to assume for a layer that declares none, e.g. EPSG:9213")] = None,
    encoding: Annotated[str | None, typer.Option(help="DBF text encoding: utf-8|cp1258|tcvn3|vni")] = None,
    lang: LangOpt = "vi",
) -> None:
    """Derive old → new (toàn bộ / một phần, area and population shares) from the geometry; compare with a mapping."""
    _check_lang(lang)
    from diagioi.geo.crosswalk import compare_with_mapping, derive_crosswalk, read_mapping

    try:
        if out_path is not None and out_path.suffix.lower() != ".csv":
            raise _wrong_suffix(out_path, ".csv", "crosswalk.csv")
        old_units, new_units = (_read(path, lang, crs=crs, encoding=encoding) for path in (old_file, new_file))
        for name, unit_set in ((old_file.name, old_units), (new_file.name, new_units)):
            if unit_set.level != "commune":
                raise DiagioiError(Message("error.cli_not_commune_layer", {"file": name,
                                                                           "level": _level_text(unit_set.level)}),
                                   hint=Message("hint.crosswalk_layers"))
        with _progress() as progress:
            progress.add_task(_t("cli.progress.crosswalk", lang), total=None)
            result = derive_crosswalk(old_units, new_units)
            if mapping is not None:
                compare_with_mapping(result, read_mapping(mapping))
        if out_path is not None:
            out_path.parent.mkdir(parents=True, exist_ok=True)
            result.write_csv(out_path)
    except DiagioiError as error:
        _fail(error, lang)
    data = result.to_dict()
    if as_json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    else:
        s = data["summary"]
        out.print(f"{old_file.name} → {new_file.name}: {s['n_old_units']} đơn vị cũ, {s['n_whole']} toàn bộ, "
                  f"{s['n_part']} một phần ({s['n_old_split']} đơn vị cũ bị chia), {s['n_old_uncovered']} không thuộc "
                  f"đơn vị mới nào; bỏ qua {s['ignored_pieces']} mảnh < {s['min_share']:.0%} diện tích đơn vị cũ "
                  f"({_fmt(s['ignored_km2'], 2)} km²). Dân số: {data['population_method']}.", highlight=False)
        comparison = data.get("comparison")
        if comparison:
            out.print(f"So với {mapping.name}: toàn bộ {comparison['whole_agree']}/{comparison['whole_rows']} khớp, "
                      f"một phần {comparison['part_agree']}/{comparison['part_rows']} khớp, "
                      f"{comparison['not_in_old_layer']} dòng có đơn vị cũ không có trong lớp cũ.", highlight=False)
            if comparison["disagreements"]:
                grid = Table(title="Khác với bảng chuyển đổi")
                for column in ("Dòng", "Đơn vị cũ", "Theo bảng", "Theo hình học (tỷ lệ diện tích)"):
                    grid.add_column(column)
                for d in comparison["disagreements"]:
                    grid.add_row(str(d["line"]), f"{d['old_code']} {d['old_name'] or ''}",
                                 f"{d['mapping_new_code']} {d['mapping_new_name'] or ''} "
                                 f"({'toàn bộ' if d['mapping_relation'] == 'whole' else 'một phần'})",
                                 "; ".join(f"{p['new_code']} {p['new_name']} {p['area_share_of_old']:.0%}"
                                           for p in d["derived"]) or "—")
                out.print(grid)
    if out_path is not None:
        console.print(_t("cli.wrote", lang, path=str(out_path)), highlight=False)


OUTPUT_SUFFIXES = (".xlsx", ".csv", ".gpkg", ".geojson", ".json", ".html")


def _check_outputs(outputs: list[Path]) -> None:
    """Refuse an unknown output format before any heavy work is done."""
    for path in outputs:
        if path.suffix.lower() not in OUTPUT_SUFFIXES:
            raise DiagioiError(Message("error.output_format", {"file": path.name, "suffix": repr(path.suffix)}),
                               hint=Message("hint.output_format"))


def _write_outputs(evaluation, outputs: list[Path], lang: str, zoning=None) -> list[Path]:
    data = evaluation.report(lang)
    written = []
    for path in outputs:
        try:
            _write_output(evaluation, data, path, lang, zoning)
        except OSError as exc:
            raise DiagioiError(Message("error.cannot_write", {"path": str(path), "reason": exc.strerror or str(exc)}),
                               hint=Message("hint.cannot_write"),
                               context={"path": str(path), "reason": exc.strerror or str(exc)}) from None
        written.append(path)
    return written


def _write_output(evaluation, data, path: Path, lang: str, zoning=None) -> None:
    from diagioi.geo import exports

    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        exports.write_annex_xlsx(data, path, lang=lang, units_crosswalk=evaluation.crosswalk(), zoning=zoning)
    elif suffix == ".csv" and path.stem.endswith("crosswalk"):
        exports.write_crosswalk_csv(data, evaluation.units.gdf, path, lang=lang)
    elif suffix == ".csv":
        exports.write_table_csv(data, path, lang=lang)
    elif suffix == ".gpkg":
        exports.write_new_units_gpkg(evaluation.new_units_gdf(), path, lang=lang)
    elif suffix in (".geojson", ".json"):
        exports.write_new_units_geojson(evaluation.new_units_gdf(), path, lang=lang)
    else:  # ".html" (the suffix was checked by _check_outputs)
        from diagioi.layers.html_map import write_html_map

        write_html_map(evaluation.new_units_gdf(), evaluation.units.gdf, path, title=evaluation.scenario.name,
                       lang=lang, zoning=zoning)


def _kind_text(kind, lang: str) -> str:
    from diagioi.geo.i18n import catalogue
    from diagioi.geo.kinds import UnitKind

    try:
        return catalogue(lang)[f"kind.{UnitKind.parse(kind).value}"]
    except DiagioiError:
        return str(kind)


def _print_evaluation(data: dict, lang: str = "vi") -> None:
    from diagioi.geo.i18n import catalogue

    messages = catalogue(lang)
    scenario = data["scenario"]
    table = Table(title=f"{scenario['name']} — {scenario['regime_name']}"
                  + ("" if scenario["confirmed"] else _t("cli.unconfirmed", lang)))
    for key in ("new_unit", "kind", "members", "area", "official_area", "population", "density", "contiguous",
                "standards", "status"):
        table.add_column(_t(f"cli.col.{key}", lang))
    marks = {True: "✓", False: "✗", None: "?"}
    statuses = {"pass": "[green]{}[/]", "fail": "[red]{}[/]", "exempt": "[yellow]{}[/]", "unknown": "{}"}
    for u in data["new_units"]:
        standards = "; ".join(
            _t("cli.standard", lang, criterion=messages.get(f"criterion.{s['criterion']}", s["criterion"]),
               percent=_fmt(s["percent_of_standard"], 0, lang),
               mark="~" if s.get("exempt") else marks.get(s["passed"], "?"))
            for s in u["standards"])
        status = statuses.get(u["status"], "{}").format(messages.get(f"status.{u['status']}", u["status"]))
        table.add_row(u["name"], _kind_text(u["kind"], lang), ", ".join(u["member_names"]),
                      _fmt(u["area_km2"], lang=lang), _fmt(u["official_area_km2"], lang=lang),
                      _fmt(u["population"], 0, lang), _fmt(u["density"], 0, lang),
                      _t("cli.yes", lang) if u["contiguous"] else f"[red]{_t('cli.no', lang)}[/]", standards, status)
    out.print(table)
    t = data["totals"]

    def kinds(counts: dict) -> str:
        return ", ".join(_t("cli.kind_count", lang, kind=_kind_text(k, lang), n=n) for k, n in counts.items())

    out.print(_t("cli.totals", lang, before=t["units_before"], kinds_before=kinds(t["by_kind_before"]),
                 after=t["units_after"], kinds_after=kinds(t["by_kind_after"]),
                 ward_share=_fmt((t["ward_share_after"] or 0) * 100, 1, lang), area=_fmt(t["area_km2"], lang=lang),
                 population=_fmt(t["population"], 0, lang), density=_fmt(t["density"], 0, lang)), highlight=False)
    if t.get("parent"):
        from diagioi.geo.kinds import ParentKind

        p = t["parent"]
        units = {"km²": "unit.km2", "người": "unit.people", "đơn vị": "unit.units", "%": "unit.percent"}
        lines = []
        for s in p["standards"]:
            result = "exempt" if s.get("exempt") else {True: "pass", False: "fail"}.get(s["passed"], "unknown")
            digits = 2 if s["unit"] == "km²" else 0
            lines.append(_t("cli.parent_standard", lang,
                            criterion=messages.get(f"criterion.{s['criterion']}", s["criterion"]),
                            value=_fmt(s["value"], digits, lang), threshold=_fmt(s["threshold"], digits, lang),
                            unit=messages.get(units.get(s["unit"], ""), s["unit"]), result=messages[f"status.{result}"]))
        kind = messages.get(f"parent_kind.{ParentKind.parse(p['kind']).value}", p["kind"])
        title = p["name"] if str(p["name"]).lower().startswith(kind.lower()) else f"{kind} {p['name']}"
        out.print(f"{title}: " + "; ".join(lines), highlight=False)
    for warning in data["warnings"]:
        console.print(f"[yellow]![/] {warning}", highlight=False)


@app.command()
def evaluate(
    scenario: Annotated[Path, typer.Argument(help="scenario file (.json or .yaml)")],
    units_file: Annotated[Path, typer.Option("--units", help="ward/commune layer the scenario refers to")],
    out_paths: Annotated[list[Path] | None, typer.Option("--out", help="write .xlsx, .csv, *crosswalk.csv, .gpkg, .geojson or .html (repeatable)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the stable JSON form")] = False,
    regime: Annotated[str | None, typer.Option(help="R76 | R1211 | R112 (default: the scenario's)")] = None,
    rules: Annotated[Path | None, typer.Option(help="a rules YAML file with your own thresholds")] = None,
    raster: Annotated[Path | None, typer.Option(help="population raster for drawn boundaries")] = None,
    lang: LangOpt = "vi",
    code_field: FieldOpt = None, name_field: FieldOpt = None, kind_field: FieldOpt = None,
    population_field: FieldOpt = None, area_field: FieldOpt = None,
    crs: Annotated[str | None, typer.Option(help="CRS to assume when the units file declares none")] = None,
    encoding: Annotated[str | None, typer.Option(help="DBF text encoding")] = None,
    flags: FlagsOpt = None, join_on: JoinOnOpt = "code",
    layer: Annotated[str | None, typer.Option(help="layer name in a GeoPackage of several layers")] = None,
    strict: StrictOpt = False,
) -> None:
    """Evaluate a merger scenario: figures and standards per new unit, totals, exports."""
    from diagioi.geo.evaluation import EvaluationContext
    from diagioi.geo.scenario import Scenario
    from diagioi.geo.standards import RuleSet

    _check_lang(lang)
    try:
        _check_outputs(list(out_paths or []))
        plan = Scenario.read(scenario)
        unit_set = _read(units_file, lang, **_fields(code_field, name_field, kind_field, population_field, area_field,
                                               crs, encoding, layer, False))
        if unit_set.level != "commune":
            raise DiagioiError(Message("error.cli_not_commune_layer_because",
                                       {"file": units_file.name, "level": _level_text(unit_set.level),
                                        "reason": unit_set.level_reason_message or unit_set.level_reason}),
                               hint=Message("hint.evaluate_layer"))
        ruleset = RuleSet.load(rules or regime or plan.regime)
        flags_table, flags_report = None, None
        if flags is not None:
            from diagioi.geo.flags import read_flags_table

            flags_table, flags_report = read_flags_table(flags, unit_set, join_on=join_on)
        with _progress() as progress:
            progress.add_task(_t("cli.progress.evaluating", lang), total=None)
            context = EvaluationContext(unit_set, raster, ruleset, flags_table=flags_table,
                                        flags_name=flags.name if flags is not None else None)
            evaluation = context.evaluate(plan)
            data = evaluation.to_json(lang)
            if flags_report is not None:
                data["flags_join"] = flags_report.to_dict()
            written = _write_outputs(evaluation, list(out_paths or []), lang)
    except DiagioiError as error:
        _fail(error, lang)
    if as_json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    else:
        _print_evaluation(data, lang)
    for path in written:
        console.print(_t("cli.wrote", lang, path=str(path)), highlight=False)
    _check_strict(unit_set, strict, lang)


def _scope_spec(provinces, districts, codes) -> dict:
    spec = {"provinces": list(provinces or []), "districts": list(districts or []), "codes": list(codes or [])}
    return {k: v for k, v in spec.items() if v}


@app.command()
def suggest(
    units_file: Annotated[Path, typer.Option("--units", help="ward/commune layer")],
    scope_province: Annotated[list[str] | None, typer.Option("--scope-province", help="province of the scope (repeatable)")] = None,
    scope_district: Annotated[list[str] | None, typer.Option("--scope-district", help="district of the scope (repeatable)")] = None,
    scope_codes: Annotated[list[str] | None, typer.Option("--scope-codes", help="unit code(s) of the scope (repeatable)")] = None,
    target_units: Annotated[int | None, typer.Option("--target-units", help="number of new units wanted")] = None,
    target_reduction: Annotated[float | None, typer.Option("--target-reduction", help="reduction in % of the number of units")] = None,
    regime: Annotated[str, typer.Option(help="R76 | R1211 | R112")] = "R76",
    flags: FlagsOpt = None, join_on: JoinOnOpt = "code",
    lock: Annotated[list[str] | None, typer.Option("--lock", help="unit kept as it is, alone (repeatable)")] = None,
    keep_districts: Annotated[bool, typer.Option("--keep-districts", help="new units do not cross old district boundaries")] = False,
    alternatives: Annotated[int, typer.Option("--alternatives", help="number of diverse plans (1–10)")] = 1,
    seed: Annotated[int, typer.Option("--seed", help="seed of the search (same seed, same plans)")] = 0,
    kind_rule: Annotated[str, typer.Option("--kind-rule", help="a new unit is a ward when all | any | the majority "
                                                              "(by population) of its members are wards")] = "all",
    parent_kind: Annotated[str | None, typer.Option("--parent-kind", help="the scope's parent kind (province, "
                                                                             "provincial_city…), checked by evaluate")] = None,
    parent_name: Annotated[str | None, typer.Option("--parent-name", help="name of the parent")] = None,
    parent_targets: Annotated[bool, typer.Option("--parent-targets", help="instead of plans: annexations of whole "
                                                                          "neighbouring units and kind changes that "
                                                                          "close the parent's failing standards")] = False,
    max_annex: Annotated[int, typer.Option("--max-annex", help="--parent-targets: at most this many units annexed")] = 2,
    time_limit: Annotated[float, typer.Option("--time-limit", help="seconds for the search")] = 50.0,
    as_json: Annotated[bool, typer.Option("--json", help="print the stable JSON form")] = False,
    lang: LangOpt = "vi",
) -> None:
    """Suggest whole merger plans for a scope (gợi ý phương án), or annexations that close a parent's gap."""
    _check_lang(lang)
    from diagioi.geo.scope import resolve_scope
    from diagioi.geo.standards import RuleSet

    try:
        spec = _scope_spec(scope_province, scope_district, scope_codes)
        if not spec:
            raise DiagioiError(Message("error.cli_no_scope"), hint=Message("hint.cli_scope"))
        unit_set = _read(units_file, lang)
        ruleset = RuleSet.load(regime)
        scope = resolve_scope(unit_set, spec, source="--scope")
        unit_flags = {}
        if flags is not None:
            from diagioi.geo.flags import read_flags_table

            table, _report = read_flags_table(flags, unit_set, join_on=join_on)
            unit_flags = {code: {k: v for k, v in row.items() if v is not None} for code, row in table.items()}
        parent = None
        if parent_kind or parent_targets:
            if not parent_kind:
                raise DiagioiError(Message("error.cli_needs", {"option": "--parent-targets", "needed": "--parent-kind"}),
                                   hint=Message("hint.example", {"example": "--parent-kind provincial_city"}))
            label = parent_name or ", ".join(spec.get("districts") or spec.get("provinces") or ["phạm vi"])
            parent = {"name": label, "kind": parent_kind}
        if parent_targets:
            from diagioi.geo.candidates import parent_target_candidates

            payload = parent_target_candidates(unit_set, ruleset, list(scope.codes), parent, unit_flags=unit_flags,
                                               max_annex=max_annex)
        else:
            with _progress() as progress:
                progress.add_task(_t("cli.progress.searching", lang), total=None)
                from diagioi.geo.suggest import suggest_plans

                payload = suggest_plans(unit_set, scope.codes, ruleset, target_units=target_units,
                                        target_reduction=target_reduction, unit_flags=unit_flags, locks=lock or (),
                                        keep_districts=keep_districts, alternatives=alternatives, seed=seed,
                                        kind_rule=kind_rule, parent=parent, scope=spec, time_limit_s=time_limit)
    except DiagioiError as error:
        _fail(error, lang)
    if as_json:
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
        return
    if parent_targets:
        for row in payload["candidates"]:
            out.print(f"{row['rank']}. {row['description_vi']}", highlight=False)
        return
    report = payload["report"]
    table = Table(title=f"Gợi ý phương án: {report['units_before']} → {report['target_units']} đơn vị ({report['regime']})")
    for column in ("Phương án", "Đơn vị mới", "Không đạt", "Miễn (≥ 3 ĐV)", "Không liền kề", "Polsby–Popper trung vị"):
        table.add_column(column)
    for plan in report["plans"]:
        table.add_row(plan["scenario"], str(plan["units_after"]), str(plan["failing_units"]), str(plan["exempt_units"]),
                      str(plan["non_contiguous_units"]), _fmt(plan["polsby_popper_median"], 3))
    out.print(table)
    console.print(f"{report['method_vi']}; {report['solve_s']:.1f} s", highlight=False)


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="folder for the demo outputs")] = Path("demo-out"),
    as_json: Annotated[bool, typer.Option("--json", help="print the evaluation JSON")] = False,
    lang: LangOpt = "vi",
) -> None:
    """Run the main job on the embedded sample region: evaluate the example merger and export everything."""
    _check_lang(lang)
    from diagioi.demo import demo_dir
    from diagioi.geo.evaluation import EvaluationContext
    from diagioi.geo.io import read_units
    from diagioi.geo.scenario import Scenario

    try:
        folder = demo_dir()
        unit_set = read_units(folder / "units.geojson")
        plan = Scenario.read(folder / "scenario.json")
        evaluation = EvaluationContext(unit_set, folder / "population.tif").evaluate(plan)
        from diagioi.layers.indicators import has_features, new_unit_indicators, read_zoning_layers

        layers = read_zoning_layers(folder)
        zoning = new_unit_indicators(evaluation.new_units_gdf(), layers) if has_features(layers) else None
        outputs = [out_dir / "bang-dien-tich-mat-do.xlsx", out_dir / "bang-dien-tich-mat-do.csv",
                   out_dir / "crosswalk.csv", out_dir / "don-vi-moi.gpkg", out_dir / "don-vi-moi.geojson",
                   out_dir / "ban-do.html"]
        written = _write_outputs(evaluation, outputs, lang, zoning)
    except DiagioiError as error:
        _fail(error, lang)
    data = evaluation.to_json(lang)
    if as_json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    else:
        console.print(_t("cli.sample", lang, folder=str(folder)), highlight=False)
        _print_evaluation(data, lang)
    for path in written:
        console.print(_t("cli.wrote", lang, path=str(path)), highlight=False)
    console.print(_t("cli.next", lang), highlight=False)


@app.command(name="rules")
def rules_command(
    regime: Annotated[str | None, typer.Argument(help="R76 | R1211 | R112 | R35; omit to list regimes")] = None,
    lang: LangOpt = "vi",
) -> None:
    """List the legal regimes, or the rules of one regime with thresholds and citations."""
    _check_lang(lang)
    from diagioi.geo.standards import RuleSet

    try:
        if regime is None:
            sys.stdout.write(json.dumps(RuleSet.available(), ensure_ascii=False, indent=2) + "\n")
        else:
            sys.stdout.write(json.dumps(RuleSet.load(regime).to_dict(), ensure_ascii=False, indent=2) + "\n")
    except DiagioiError as error:
        _fail(error, lang)


tiles_app = typer.Typer(no_args_is_help=True, help="Map tiles as static files (the live /api/tiles layers).")
app.add_typer(tiles_app, name="tiles")


@tiles_app.command("export")
def tiles_export(
    out_file: Annotated[Path, typer.Option("--out", help="archive to write, e.g. plan.pmtiles")],
    fmt: Annotated[str, typer.Option("--format", help="archive format: pmtiles")] = "pmtiles",
    scenario: Annotated[str | None, typer.Option(help="id of a stored scenario: its new units as a layer")] = None,
    layers: Annotated[list[str] | None, typer.Option(
        "--layers", help="layers to write (repeatable or comma-separated): units, scenario, units-{dataset}, "
                         "industrial_clusters, tourism_sites, night_streets; default: units, the scenario and the "
                         "zoning layers that have features")] = None,
    minzoom: Annotated[int, typer.Option(min=0, max=20, help="lowest zoom written")] = 0,
    maxzoom: Annotated[int, typer.Option(min=0, max=20, help="highest zoom written (maps over-zoom it)")] = 14,
    store: Annotated[str | None, typer.Option(help="sqlite (default, in --data-dir) or "
                                                      "postgresql://user@host/db; also $DIAGIOI_STORE")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="folder of the embedded store")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print what was written as JSON")] = False,
    lang: LangOpt = "vi",
) -> None:
    """Write the store's units, a scenario and the zoning layers as one PMTiles archive (same attributes as
    the live tiles), for static hosting; the web app opens it read-only with ?pmtiles=URL."""
    from diagioi.api.tiles_export import export_tiles

    _check_lang(lang)
    try:
        report = export_tiles(out_file, fmt=fmt, scenario=scenario, layers=layers or (), minzoom=minzoom,
                              maxzoom=maxzoom, store=store, data_dir=data_dir)
    except DiagioiError as error:
        _fail(error, lang)
    if as_json:
        sys.stdout.write(json.dumps(report.to_dict(), ensure_ascii=False) + "\n")
    else:
        console.print(_t("cli.wrote", lang, path=str(report.path)), highlight=False)
        console.print(_t("cli.tiles_written", lang, tiles=report.tiles, minzoom=report.minzoom,
                         maxzoom=report.maxzoom, layers=", ".join(report.layers)), highlight=False)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    data_dir: Annotated[Path | None, typer.Option(help="folder of the embedded store (default ./diagioi-data)")] = None,
    units_file: Annotated[Path | None, typer.Option("--units", help="ward/commune layer to serve (default: the sample demo)")] = None,
    token: Annotated[str | None, typer.Option(help="write token (default: $DIAGIOI_TOKEN, else the one kept in "
                                                      "<data dir>/token, created on first start)")] = None,
    open_browser: Annotated[bool, typer.Option("--open", help="open the login URL in a web browser")] = False,
    allowed_host: Annotated[list[str] | None, typer.Option(
        "--allowed-host", help="another host name clients may use (repeatable; also DIAGIOI_ALLOWED_HOSTS); "
                               "127.0.0.1, localhost, [::1] and --host are always accepted")] = None,
    public_url: Annotated[str | None, typer.Option(
        "--public-url", help="public base URL behind a reverse proxy, e.g. https://diagioi.example.org "
                             "(absolute links are built from it; also DIAGIOI_PUBLIC_URL)")] = None,
    proxy: Annotated[list[str] | None, typer.Option(
        "--proxy", help="address of a reverse proxy whose X-Forwarded-For is trusted (repeatable; also "
                        "DIAGIOI_PROXY); without it that header is ignored")] = None,
    store: Annotated[str | None, typer.Option(help="where data is kept: sqlite (default, in --data-dir) or "
                                                      "postgresql://user@host/db (PostGIS); also $DIAGIOI_STORE")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="worker processes on the same store (caches follow "
                                                             "the store's versions)")] = 1,
    lang: LangOpt = "vi",
) -> None:
    """Serve the API and the browser app (SQLite store by default, or PostGIS); prints the login URL."""
    _check_lang(lang)
    from diagioi.api.server import run_server

    try:
        run_server(host=host, port=port, data_dir=data_dir, units_path=units_file, token=token,
                   allowed_hosts=allowed_host or (), public_url=public_url, proxy=proxy or (),
                   open_browser=open_browser, store=store, workers=workers, lang=lang)
    except DiagioiError as error:
        _fail(error, lang)


def _lang_of_arguments(arguments: list[str]) -> str:
    """The ``--lang`` of a command line, for the lines printed outside a command (interrupted, a bug)."""
    for position, argument in enumerate(arguments):
        value = argument.partition("=")[2] if argument.startswith("--lang=") else (
            arguments[position + 1] if argument == "--lang" and position + 1 < len(arguments) else None)
        if value in LANGUAGES:
            return value
    return "vi"


def main() -> None:
    """Console-script entry point."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app(standalone_mode=True)
    except KeyboardInterrupt:
        console.print(f"[bold red]error:[/] {_t('error.cli_interrupted', _lang_of_arguments(sys.argv[1:]))}",
                      highlight=False)
        sys.exit(130)
    except Exception as error:  # a bug, not bad input: still one line, never a traceback
        logging.getLogger(__name__).debug("unexpected error", exc_info=True)
        lang = _lang_of_arguments(sys.argv[1:])
        console.print(f"[bold red]error:[/] {_t('error.cli_unexpected', lang, error=type(error).__name__, text=str(error))}",
                      highlight=False)
        console.print(f"[yellow]hint:[/] {_t('hint.cli_bug', lang)}", highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
