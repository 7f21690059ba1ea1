"""The ``diagioi`` command line: inspect units, evaluate scenarios, export tables, run the demo, serve.

An outer adapter like the API: it reads files through geo/, prints tables or the stable JSON
forms, and maps every DiagioiError to one line of text and exit code 2 (no traceback).
"""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from diagioi.geo.errors import DiagioiError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="diagioi — merging Vietnamese wards and communes: areas, populations, standards, exports.")
console = Console(stderr=True)
out = Console(width=None if sys.stdout.isatty() else 180)

FieldOpt = Annotated[Optional[str], typer.Option(help="source column for this field")]
LangOpt = Annotated[str, typer.Option("--lang", help="language of what is printed and written: vi | en")]


def _progress():
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                    transient=True, disable=not console.is_terminal)


def _fail(error: DiagioiError) -> None:
    console.print(f"[bold red]error:[/] {error.message}", highlight=False)
    if error.hint:
        console.print(f"[yellow]hint:[/] {error.hint}", highlight=False)
    issues = getattr(error, "issues", None)
    for issue in (issues or [])[:20]:
        console.print(f"  - {issue}", highlight=False)
    raise typer.Exit(2)


StrictOpt = Annotated[bool, typer.Option(
    "--strict", help="exit with code 1 when the data has reported problems (duplicate codes, missing "
                     "population, repaired geometry…)")]


def _check_strict(unit_set, strict: bool) -> None:
    """With --strict, reported data problems end the command with exit code 1 (after its output)."""
    if not strict or not unit_set.issues:
        return
    kinds = sorted({issue.problem for issue in unit_set.issues})
    console.print(f"[bold red]error:[/] {len(unit_set.issues)} data problem(s) reported ({'; '.join(kinds[:6])})"
                  " and --strict is set", highlight=False)
    console.print("[yellow]hint:[/] fix them in the source layer (they are listed above or under \"issues\" in "
                  "--json), or run without --strict to accept them", highlight=False)
    raise typer.Exit(1)


def _read(path: Path, **fields):
    from diagioi.geo.io import read_units

    with _progress() as progress:
        progress.add_task(f"reading {path.name}", total=None)
        return read_units(path, **fields)


TableOpt = Annotated[Optional[Path], typer.Option("--table", help="population/area table (.xlsx or .csv) to join")]
SheetOpt = Annotated[Optional[str], typer.Option("--sheet", help="sheet of the --table workbook (default: the first)")]
JoinOnOpt = Annotated[str, typer.Option("--join-on", help="join the table by code or by name (within district/province)")]
TableColumnOpt = Annotated[Optional[list[str]], typer.Option(
    "--table-column", help="FIELD=HEADER for a table column not found by its header, e.g. population='Dân số 2024'")]
FlagsOpt = Annotated[Optional[Path], typer.Option("--flags", help="table of region flags (miền núi, biên giới, hải đảo, "
                                                                  "ĐBSH, tỷ lệ DTTS) joined like --table")]
YearOpt = Annotated[Optional[int], typer.Option("--population-year", help="year of the table's population figures")]


def _join_tables(unit_set, table, sheet, join_on, table_columns, flags, population_year):
    """Join the population table and the flags table; returns the unit set and the join reports."""
    from diagioi.geo.tables import FLAG_FIELDS, join_table, read_table

    columns = {}
    for item in table_columns or []:
        if "=" not in item:
            raise DiagioiError(f"--table-column {item!r} is not FIELD=HEADER",
                               hint="e.g. --table-column population='Dân số 2024'")
        key, header = item.split("=", 1)
        columns[key.strip()] = header.strip()
    reports = {}
    if table is not None:
        unit_set, report = join_table(unit_set, read_table(table, sheet=sheet, columns=columns), join_on=join_on,
                                      population_year=population_year)
        reports["join"] = report
    if flags is not None:
        unit_set, report = join_table(unit_set, read_table(flags, columns=columns), join_on=join_on,
                                      fields=list(FLAG_FIELDS))
        reports["flags_join"] = report
    return unit_set, reports


def _fields(code_field, name_field, kind_field, population_field, area_field, crs, encoding, layer, no_repair):
    return dict(code_field=code_field, name_field=name_field, kind_field=kind_field,
                population_field=population_field, area_field=area_field, crs=crs, encoding=encoding,
                layer=layer, repair=not no_repair)


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


def _check_lang(lang: str) -> None:
    from diagioi.geo.i18n import LANGUAGES

    if lang not in LANGUAGES:
        _fail(DiagioiError(f"unknown language {lang!r}", hint="use --lang vi or --lang en"))


@app.command()
def units(
    file: Annotated[Path, typer.Argument(help="ward/commune layer: GeoJSON, GeoPackage or Shapefile")],
    as_json: Annotated[bool, typer.Option("--json", help="print the stable JSON form")] = False,
    code_field: FieldOpt = None, name_field: FieldOpt = None, kind_field: FieldOpt = None,
    population_field: FieldOpt = None, area_field: FieldOpt = None,
    crs: Annotated[Optional[str], typer.Option(help="CRS to assume when the file declares none, e.g. EPSG:3405")] = None,
    encoding: Annotated[Optional[str], typer.Option(help="DBF text encoding: utf-8|cp1258|tcvn3|vni")] = None,
    layer: Annotated[Optional[str], typer.Option(help="layer name in a GeoPackage")] = None,
    no_repair: Annotated[bool, typer.Option("--no-repair", help="refuse invalid geometries instead of repairing")] = False,
    plane_area: Annotated[bool, typer.Option("--plane-area", help="also give the area in the VN-2000 TM-3 plane")] = False,
    plane_crs: Annotated[Optional[str], typer.Option(
        "--plane-crs", help="measure the plane area in this projected CRS instead of each province's TM-3 zone")] = None,
    table_path: TableOpt = None, sheet: SheetOpt = None, join_on: JoinOnOpt = "code",
    table_column: TableColumnOpt = None, flags: FlagsOpt = None, population_year: YearOpt = None,
    strict: StrictOpt = False,
    lang: LangOpt = "vi",
) -> None:
    """List the units of a layer with computed (geodesic) and official area, population and density."""
    _check_lang(lang)
    try:
        unit_set = _read(file, **_fields(code_field, name_field, kind_field, population_field, area_field,
                                         crs, encoding, layer, no_repair))
        unit_set, join_reports = _join_tables(unit_set, table_path, sheet, join_on, table_column, flags,
                                                population_year)
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
        _fail(error)
    if as_json:
        payload = {"source": str(file), "crs": unit_set.source_crs,
                   "area_source": "computed: geodesic area on the WGS 84 ellipsoid (pyproj Geod)",
                   "units": records, "issues": [i.to_dict() for i in unit_set.issues]}
        payload.update({key: report.to_dict() for key, report in join_reports.items()})
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
        _check_strict(unit_set, strict)
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
    sources = {}
    for r in records:
        key = (r["population_source"] or _t("cli.no_source", lang), r["population_year"])
        sources[key] = sources.get(key, 0) + 1
    for (source, year), count in sources.items():
        line = (_t("cli.population_source", lang, source=source, year=str(year), n=count) if year
                else _t("cli.population_source_no_year", lang, source=source, n=count))
        console.print(line, highlight=False)
    for report in join_reports.values():
        for line in report.lines_vi():
            console.print(line, highlight=False)
    if unit_set.issues:
        console.print(_t("cli.issues", lang, n=len(unit_set.issues)), highlight=False)
        for issue in unit_set.issues[:30]:
            console.print(f"  - {issue}", highlight=False)
    _check_strict(unit_set, strict)


OUTPUT_SUFFIXES = (".xlsx", ".csv", ".gpkg", ".geojson", ".json", ".html")


def _check_outputs(outputs: list[Path]) -> None:
    """Refuse an unknown output format before any heavy work is done."""
    for path in outputs:
        if path.suffix.lower() not in OUTPUT_SUFFIXES:
            raise DiagioiError(f"cannot write {path.name}: unknown output format {path.suffix!r}",
                               hint="use .xlsx, .csv, *crosswalk.csv, .gpkg, .geojson or .html")


def _write_outputs(evaluation, outputs: list[Path], lang: str) -> list[Path]:
    data = evaluation.to_json(lang)
    written = []
    for path in outputs:
        try:
            _write_output(evaluation, data, path, lang)
        except OSError as exc:
            raise DiagioiError(f"cannot write {path}: {exc.strerror or exc}",
                               hint="choose an --out path in a folder that exists or can be created and that "
                                    "you may write to", context={"path": str(path)}) from None
        written.append(path)
    return written


def _write_output(evaluation, data: dict, path: Path, lang: str) -> None:
    from diagioi.geo import exports

    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        exports.write_annex_xlsx(data, path, lang=lang, units_crosswalk=evaluation.crosswalk())
    elif suffix == ".csv" and path.stem.endswith("crosswalk"):
        exports.write_crosswalk_csv(data, evaluation.units.gdf, path, lang=lang)
    elif suffix == ".csv":
        exports.write_table_csv(data, path, lang=lang)
    elif suffix == ".gpkg":
        exports.write_new_units_gpkg(evaluation.new_units_gdf(), path)
    elif suffix in (".geojson", ".json"):
        exports.write_new_units_geojson(evaluation.new_units_gdf(), path)
    else:  # ".html" (the suffix was checked by _check_outputs)
        from diagioi.layers.html_map import write_html_map

        write_html_map(evaluation.new_units_gdf(), evaluation.units.gdf, path, title=evaluation.scenario.name,
                       lang=lang)


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
    out_paths: Annotated[Optional[list[Path]], typer.Option("--out", help="write .xlsx, .csv, *crosswalk.csv, .gpkg, .geojson or .html (repeatable)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the stable JSON form")] = False,
    regime: Annotated[Optional[str], typer.Option(help="R76 | R1211 | R112 (default: the scenario's)")] = None,
    rules: Annotated[Optional[Path], typer.Option(help="a rules YAML file with your own thresholds")] = None,
    raster: Annotated[Optional[Path], typer.Option(help="population raster for drawn boundaries")] = None,
    lang: LangOpt = "vi",
    code_field: FieldOpt = None, name_field: FieldOpt = None, kind_field: FieldOpt = None,
    population_field: FieldOpt = None, area_field: FieldOpt = None,
    crs: Annotated[Optional[str], typer.Option(help="CRS to assume when the units file declares none")] = None,
    encoding: Annotated[Optional[str], typer.Option(help="DBF text encoding")] = None,
    flags: FlagsOpt = None, join_on: JoinOnOpt = "code",
    layer: Annotated[Optional[str], typer.Option(help="layer name in a GeoPackage of several layers")] = None,
    strict: StrictOpt = False,
) -> None:
    """Evaluate a merger scenario: figures and standards per new unit, totals, exports."""
    from diagioi.geo.evaluation import evaluate as run_evaluation
    from diagioi.geo.scenario import Scenario
    from diagioi.geo.standards import RuleSet

    _check_lang(lang)
    try:
        _check_outputs(list(out_paths or []))
        plan = Scenario.read(scenario)
        unit_set = _read(units_file, **_fields(code_field, name_field, kind_field, population_field, area_field,
                                               crs, encoding, layer, False))
        ruleset = RuleSet.load(rules or regime or plan.regime)
        flags_table, flags_report = None, None
        if flags is not None:
            from diagioi.geo.flags import read_flags_table

            flags_table, flags_report = read_flags_table(flags, unit_set, join_on=join_on)
        with _progress() as progress:
            progress.add_task("evaluating", total=None)
            evaluation = run_evaluation(unit_set, plan, ruleset, raster_path=raster, flags_table=flags_table,
                                        flags_name=flags.name if flags is not None else None)
            data = evaluation.to_json(lang)
            if flags_report is not None:
                data["flags_join"] = flags_report.to_dict()
            written = _write_outputs(evaluation, list(out_paths or []), lang)
    except DiagioiError as error:
        _fail(error)
    if as_json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    else:
        _print_evaluation(data, lang)
    for path in written:
        console.print(_t("cli.wrote", lang, path=str(path)), highlight=False)
    _check_strict(unit_set, strict)


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="folder for the demo outputs")] = Path("demo-out"),
    as_json: Annotated[bool, typer.Option("--json", help="print the evaluation JSON")] = False,
    lang: LangOpt = "vi",
) -> None:
    """Run the main job on the embedded sample region: evaluate the example merger and export everything."""
    _check_lang(lang)
    from diagioi.geo.demo import demo_dir
    from diagioi.geo.evaluation import evaluate as run_evaluation
    from diagioi.geo.io import read_units
    from diagioi.geo.scenario import Scenario

    try:
        folder = demo_dir()
        unit_set = read_units(folder / "units.geojson")
        plan = Scenario.read(folder / "scenario.json")
        evaluation = run_evaluation(unit_set, plan, raster_path=folder / "population.tif")
        outputs = [out_dir / "bang-dien-tich-mat-do.xlsx", out_dir / "bang-dien-tich-mat-do.csv",
                   out_dir / "crosswalk.csv", out_dir / "don-vi-moi.gpkg", out_dir / "don-vi-moi.geojson",
                   out_dir / "ban-do.html"]
        written = _write_outputs(evaluation, outputs, lang)
    except DiagioiError as error:
        _fail(error)
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
    regime: Annotated[Optional[str], typer.Argument(help="R76 | R1211 | R112 | R35; omit to list regimes")] = None,
) -> None:
    """List the legal regimes, or the rules of one regime with thresholds and citations."""
    from diagioi.geo.standards import RuleSet

    try:
        if regime is None:
            sys.stdout.write(json.dumps(RuleSet.available(), ensure_ascii=False, indent=2) + "\n")
        else:
            sys.stdout.write(json.dumps(RuleSet.load(regime).to_dict(), ensure_ascii=False, indent=2) + "\n")
    except DiagioiError as error:
        _fail(error)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    data_dir: Annotated[Optional[Path], typer.Option(help="folder of the embedded store (default ./diagioi-data)")] = None,
    units_file: Annotated[Optional[Path], typer.Option("--units", help="ward/commune layer to serve (default: the sample demo)")] = None,
    token: Annotated[Optional[str], typer.Option(help="write token (default: $DIAGIOI_TOKEN, else the one kept in "
                                                      "<data dir>/token, created on first start)")] = None,
    open_browser: Annotated[bool, typer.Option("--open", help="open the login URL in a web browser")] = False,
    allowed_host: Annotated[Optional[list[str]], typer.Option(
        "--allowed-host", help="another host name clients may use (repeatable; also DIAGIOI_ALLOWED_HOSTS); "
                               "127.0.0.1, localhost, [::1] and --host are always accepted")] = None,
    public_url: Annotated[Optional[str], typer.Option(
        "--public-url", help="public base URL behind a reverse proxy, e.g. https://diagioi.example.org "
                             "(absolute links are built from it; also DIAGIOI_PUBLIC_URL)")] = None,
    proxy: Annotated[Optional[list[str]], typer.Option(
        "--proxy", help="address of a reverse proxy whose X-Forwarded-For is trusted (repeatable; also "
                        "DIAGIOI_PROXY); without it that header is ignored")] = None,
) -> None:
    """Serve the API and the browser app on an embedded store; prints the login URL that carries the write token."""
    from diagioi.api.server import run_server

    try:
        run_server(host=host, port=port, data_dir=data_dir, units_path=units_file, token=token,
                   allowed_hosts=allowed_host or (), public_url=public_url, proxy=proxy or (),
                   open_browser=open_browser)
    except DiagioiError as error:
        _fail(error)


def main() -> None:
    """Console-script entry point."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app(standalone_mode=True)
    except KeyboardInterrupt:
        console.print("[bold red]error:[/] interrupted", highlight=False)
        sys.exit(130)
    except Exception as error:  # a bug, not bad input: still one line, never a traceback
        logging.getLogger(__name__).debug("unexpected error", exc_info=True)
        console.print(f"[bold red]error:[/] unexpected {type(error).__name__}: {error}", highlight=False)
        console.print("[yellow]hint:[/] this is a bug in diagioi, not in your input; please report it with the "
                      "command you ran", highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
