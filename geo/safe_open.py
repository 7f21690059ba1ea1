"""Opening a user's vector file without letting it open anything else.

GDAL recognises a format by the file's *content*, whatever its name: an OGR VRT named ``x.json``
is opened as a VRT and reads the ``<SrcDataSource>`` it names (``CSV:/etc/passwd``,
``/vsicurl/http://…``). Every file a user hands to diagioi (layer uploads, ``--units``,
``diagioi units``) is therefore opened here, in three steps:

1. **sniff** the bytes and decide the format from an allow-list — GeoJSON (JSON text starting
   with ``{``), GeoPackage (SQLite header and a GeoPackage ``application_id``), a zip holding
   exactly one Shapefile set (``.shp .shx .dbf`` with optional ``.prj .cpg``), or — for the
   command line — a plain ``.shp`` with its ``.shx`` and ``.dbf`` beside it;
2. **inspect** what the format itself could make GDAL read elsewhere: a GeoPackage's
   ``sqlite_master`` may hold no view, no virtual table other than the spatial index (``rtree``)
   and no trigger other than the GeoPackage/GDAL ones; a zip's members are checked (no paths
   out of the folder, no links, bounded size) and extracted to a private folder;
3. **open** with the driver named in the connection string (``GeoJSON:``, ``GPKG:``), with GDAL
   configured so that it does not follow network or external paths (see ``GDAL_LOCKDOWN``).

Everything refused raises :class:`~geo.errors.InputError` (or a subclass) naming the file and
saying what to send instead; nothing is read before the checks pass.
"""
from __future__ import annotations

import re
import shutil
import sqlite3
import stat
import tempfile
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath

import geopandas as gpd
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError

from .errors import EncodingError, InputError, MissingColumnError
from .i18n import Message

__all__ = ["GDAL_LOCKDOWN", "SafeSource", "VectorFormat", "inspect_geopackage", "list_layers",
           "open_vector", "read_frame", "sniff_format"]

#: GDAL configuration that keeps GDAL from reaching the network or files a dataset names.
#: Set once for the process when this module is imported (diagioi never needs these features).
GDAL_LOCKDOWN: dict[str, str] = {
    # /vsicurl/ and friends may only open a file of this exact name / extension: none exists.
    "CPL_VSIL_CURL_ALLOWED_FILENAME": "/diagioi/no-network-access",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".diagioi-no-network-access",
    "GDAL_HTTP_MAX_RETRY": "0",
    "GDAL_HTTP_TIMEOUT": "1",
    "GDAL_HTTP_CONNECTTIMEOUT": "1",
    # A remote or embedded resource may not point at local files; SQLite/GPKG may not reach out.
    "GDAL_ALLOW_REMOTE_RESOURCE_TO_ACCESS_LOCAL_FILE": "NO",
    "OGR_SQLITE_ALLOW_EXTERNAL_ACCESS": "NO",
    "GDAL_VRT_ENABLE_PYTHON": "NO",
    "GDAL_VRT_ENABLE_RAWRASTERBAND": "NO",
}
pyogrio.set_gdal_config_options(GDAL_LOCKDOWN)


class VectorFormat(StrEnum):
    geojson = "GeoJSON"
    geopackage = "GeoPackage"
    zipped_shapefile = "zipped Shapefile"
    shapefile = "Shapefile"


#: What each format may be called by users (for hints).
ACCEPTED_TEXT = "GeoJSON (.geojson/.json, UTF-8), GeoPackage (.gpkg) or a zipped Shapefile (.zip)"

_SQLITE_MAGIC = b"SQLite format 3\x00"
_GPKG_APPLICATION_IDS = {b"GPKG", b"GP10", b"GP11"}
_SHP_MAGIC = b"\x00\x00\x27\x0a"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_SHAPEFILE_PARTS = {".shp", ".shx", ".dbf", ".prj", ".cpg"}
_SHAPEFILE_REQUIRED = (".shp", ".shx", ".dbf")
#: Side files GIS programs put in shapefile zips; they carry no data and are not extracted.
_SHAPEFILE_IGNORED = {".xml", ".sbn", ".sbx", ".qix", ".qpj", ".qmd", ".txt", ".fix", ".aih", ".ain",
                      ".atx", ".ixs", ".mxs", ".shp.xml"}
#: Bounds for a zip: members, total unpacked bytes and the unpacked/packed ratio (zip bombs).
MAX_ZIP_MEMBERS = 64
MAX_ZIP_UNPACKED_BYTES = 1 << 30
MAX_ZIP_RATIO = 200

# Triggers a GeoPackage may carry: the standard's own (gpkg_*), the R-tree spatial index and
# GDAL's feature-count bookkeeping. They only fire on writes; anything else is refused anyway.
_ALLOWED_TRIGGER = re.compile(
    r"^(gpkg_.+|rtree_.+_(insert|update\d*|delete)|trigger_(insert|delete)_feature_count_.+)$", re.IGNORECASE)
_VIRTUAL_TABLE = re.compile(r"^\s*CREATE\s+VIRTUAL\s+TABLE", re.IGNORECASE)
_RTREE_MODULE = re.compile(r"\bUSING\s+rtree\s*\(", re.IGNORECASE)


@dataclass(frozen=True)
class SafeSource:
    """A vector file that passed the checks: what it is and how GDAL must open it."""

    format: VectorFormat
    path: Path  # the local file GDAL reads (the extracted .shp for a zip)
    name: str   # the user's name for the file, for messages

    @property
    def gdal_path(self) -> str:
        """The connection string that names the driver (GDAL then tries no other)."""
        if self.format is VectorFormat.geojson:
            return f"GeoJSON:{self.path}"
        if self.format is VectorFormat.geopackage:
            return f"GPKG:{self.path}"
        return str(self.path)  # a checked .shp whose siblings were checked too


def _refuse(name: str, problem: str, hint: str = f"send {ACCEPTED_TEXT}", **context) -> InputError:
    return InputError(f"{name}: {problem}", hint=hint, context={"file": name, **context})


def _head(path: Path, size: int = 100) -> bytes:
    with path.open("rb") as fh:
        return fh.read(size)


def sniff_format(path: str | Path, *, name: str | None = None, allow_plain_shapefile: bool = False) -> VectorFormat:
    """The format of ``path`` judged from its bytes (the name's suffix only has to agree).

    Raises :class:`InputError` for anything not on the allow-list (a VRT or any XML, CSV, a
    SQLite database that is not a GeoPackage, UTF-16 text, an empty file…).
    """
    path = Path(path)
    name = name or path.name
    head = _head(path)
    suffix = Path(name).suffix.lower()
    if not head:
        raise _refuse(name, "the file is empty")
    if head.startswith(_SQLITE_MAGIC):
        if len(head) < 72 or head[68:72] not in _GPKG_APPLICATION_IDS:
            raise _refuse(name, "an SQLite database that is not a GeoPackage (no GeoPackage application_id)",
                          hint="export the layer as GeoPackage from QGIS or ogr2ogr")
        return VectorFormat.geopackage
    if head.startswith(_ZIP_MAGIC):
        return VectorFormat.zipped_shapefile
    if head.startswith(_SHP_MAGIC) and suffix == ".shp":
        if not allow_plain_shapefile:
            raise _refuse(name, "a bare .shp cannot be uploaded without its .shx and .dbf",
                          hint="zip the .shp, .shx, .dbf, .prj and .cpg together and upload the .zip")
        return VectorFormat.shapefile
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise EncodingError(f"{name}: the text is UTF-16, not UTF-8", hint="re-save the file as UTF-8",
                            context={"file": name})
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    if text.startswith(b"{"):
        return VectorFormat.geojson
    if text.startswith(b"<"):
        raise _refuse(name, "XML (e.g. an OGR VRT or GML) is not accepted",
                      hint=f"send the data itself as {ACCEPTED_TEXT}; files that point at other files or "
                           "addresses are refused")
    raise _refuse(name, f"not a {ACCEPTED_TEXT} file (it does not start like one)")


def inspect_geopackage(path: str | Path, *, name: str | None = None) -> None:
    """Refuse a GeoPackage whose schema could make a reader run SQL or read elsewhere.

    Allowed: tables, indexes, R-tree virtual tables (the spatial index) and the standard
    GeoPackage/GDAL triggers. Refused: views, any other virtual table (e.g. ``VirtualOGR``,
    which opens any file GDAL can read), any other trigger.
    """
    path = Path(path)
    name = name or path.name
    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    try:
        connection = sqlite3.connect(uri, uri=True)
        try:
            rows = connection.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
        finally:
            connection.close()
    except sqlite3.Error as exc:
        raise _refuse(name, f"the GeoPackage cannot be read as SQLite ({exc})",
                      hint="the file is damaged or truncated: export it again") from None
    refused = []
    for kind, object_name, table, sql in rows:
        sql = sql or ""
        if kind == "view":
            refused.append(f"view {object_name!r}")
        elif kind == "table" and _VIRTUAL_TABLE.match(sql) and not _RTREE_MODULE.search(sql):
            refused.append(f"virtual table {object_name!r}")
        elif kind == "trigger" and not _ALLOWED_TRIGGER.match(str(object_name)):
            refused.append(f"trigger {object_name!r} on {table!r}")
    if refused:
        raise _refuse(name, "the GeoPackage holds SQL objects that could read other data: " + ", ".join(refused[:5])
                      + ("…" if len(refused) > 5 else ""),
                      hint="save the layer to a new GeoPackage (QGIS: Export → Save Features As; or ogr2ogr) "
                           "so that it holds only tables", objects=refused)


def _extract_shapefile_zip(path: Path, name: str, folder: Path) -> Path:
    """Check a zip's members and extract its one Shapefile set into ``folder``; the .shp's path."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _refuse(name, f"the zip cannot be read ({exc})", hint="zip the Shapefile again") from None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > MAX_ZIP_MEMBERS:
            raise _refuse(name, f"the zip holds {len(members)} files; a Shapefile zip holds one .shp set",
                          hint="zip only the .shp, .shx, .dbf, .prj and .cpg of one layer")
        sets: dict[str, dict[str, zipfile.ZipInfo]] = {}
        unexpected = []
        total = 0
        for member in members:
            pure = PurePosixPath(member.filename.replace("\\", "/"))
            mode = member.external_attr >> 16
            if pure.is_absolute() or ".." in pure.parts or stat.S_ISLNK(mode):
                raise _refuse(name, f"the zip member {member.filename!r} points outside the archive",
                              hint="zip the Shapefile's files directly (no links, no absolute or '..' paths)")
            if member.flag_bits & 0x1:
                raise _refuse(name, "the zip is encrypted", hint="zip the Shapefile without a password")
            lower = pure.name.lower()
            suffix = ".shp.xml" if lower.endswith(".shp.xml") else pure.suffix.lower()
            if suffix in _SHAPEFILE_IGNORED or pure.name.startswith("._") or "__MACOSX" in pure.parts:
                continue
            if suffix not in _SHAPEFILE_PARTS:
                unexpected.append(member.filename)
                continue
            stem = str(pure.with_suffix("")).lower()
            if suffix in sets.setdefault(stem, {}):
                raise _refuse(name, f"the zip holds {member.filename!r} twice", hint="zip one Shapefile set")
            sets[stem][suffix] = member
            total += member.file_size
            if member.file_size > MAX_ZIP_RATIO * max(member.compress_size, 1) and member.file_size > 1 << 20:
                raise _refuse(name, f"{member.filename!r} unpacks to {member.file_size:,} bytes from "
                                    f"{member.compress_size:,}: refused as a zip bomb",
                              hint="zip the Shapefile with ordinary compression")
        if unexpected:
            raise _refuse(name, "the zip holds files that are not part of a Shapefile: " + ", ".join(unexpected[:5]),
                          hint="zip only the .shp, .shx, .dbf, .prj and .cpg of one layer")
        shapefile_sets = {stem: parts for stem, parts in sets.items() if ".shp" in parts}
        if len(shapefile_sets) != 1 or len(sets) != 1:
            found = ", ".join(sorted(f"{stem}.shp" for stem in shapefile_sets)) or "none"
            raise _refuse(name, f"a Shapefile zip must hold exactly one .shp set (found: {found})",
                          hint="zip one layer per file: its .shp, .shx, .dbf, .prj and .cpg with the same name")
        if total > MAX_ZIP_UNPACKED_BYTES:
            raise _refuse(name, f"the Shapefile unpacks to {total:,} bytes, more than {MAX_ZIP_UNPACKED_BYTES:,}",
                          hint="split the layer or send it as GeoPackage")
        (parts,) = shapefile_sets.values()
        missing = [s for s in _SHAPEFILE_REQUIRED if s not in parts]
        if missing:
            raise _refuse(name, f"the zipped Shapefile has no {' or '.join(missing)}",
                          hint="a Shapefile needs its .shp, .shx and .dbf (and .prj for the CRS); zip them together")
        for suffix, member in parts.items():
            target = folder / f"layer{suffix}"
            with archive.open(member) as source, target.open("wb") as sink:
                shutil.copyfileobj(source, sink, length=1 << 20)
    shp = folder / "layer.shp"
    if not _head(shp, 4).startswith(_SHP_MAGIC):
        raise _refuse(name, "the .shp in the zip is not a Shapefile", hint="zip the Shapefile again")
    return shp


def _check_plain_shapefile(path: Path, name: str) -> None:
    for suffix in (".shx", ".dbf"):
        sibling = path.with_suffix(suffix)
        if not sibling.is_file() and not path.with_suffix(suffix.upper()).is_file():
            raise InputError(
                f"{name}: the Shapefile has no {suffix} file beside it ({sibling.name} is missing)",
                hint=f"copy {sibling.name} next to {path.name} (a Shapefile is the .shp, .shx and .dbf together, "
                     "plus .prj for the CRS), or zip them and pass the .zip",
                context={"file": name, "missing": sibling.name})


@contextmanager
def open_vector(path: str | Path, *, name: str | None = None,
                allow_plain_shapefile: bool = False) -> Iterator[SafeSource]:
    """Check a user's vector file and yield a :class:`SafeSource` to read it with :func:`read_frame`.

    ``path`` must be a regular local file (no ``/vsi…`` path, URL or driver prefix); ``name`` is
    the name shown in messages (an upload's original file name). A zip is extracted into a
    private temporary folder that is removed when the ``with`` block ends.
    """
    path = Path(path)
    name = name or path.name
    text = str(path)
    if text.startswith("/vsi") or "://" in text or (":" in path.name and not path.exists()):
        raise _refuse(name, "only a local file path is accepted (no /vsi…, URL or driver prefix)",
                      hint="download the file and pass its path")
    if not path.exists():
        raise InputError(Message("error.file_not_found", {"path": str(path)}), hint=Message("hint.check_path"),
                         context={"file": name})
    if not path.is_file():
        raise _refuse(name, "not a regular file", hint="pass the path of a layer file")
    fmt = sniff_format(path, name=name, allow_plain_shapefile=allow_plain_shapefile)
    if fmt is VectorFormat.geopackage:
        inspect_geopackage(path, name=name)
        yield SafeSource(fmt, path.resolve(), name)
    elif fmt is VectorFormat.zipped_shapefile:
        with tempfile.TemporaryDirectory(prefix="diagioi-zip-") as folder:
            yield SafeSource(fmt, _extract_shapefile_zip(path, name, Path(folder)), name)
    elif fmt is VectorFormat.shapefile:
        _check_plain_shapefile(path, name)
        yield SafeSource(fmt, path.resolve(), name)
    else:
        yield SafeSource(fmt, path.resolve(), name)


def list_layers(source: SafeSource) -> list[str]:
    """Names of the layers in the file (a GeoPackage may hold several)."""
    try:
        return [str(row[0]) for row in pyogrio.list_layers(source.gdal_path)]
    except (DataSourceError, DataLayerError, OSError) as exc:
        raise _refuse(source.name, f"{source.format} cannot be opened ({_gdal_words(exc, source)})",
                      hint="check that the file is complete; export it again") from None


def _gdal_words(exc: Exception, source: SafeSource) -> str:
    """GDAL's message without the server's private path of the file."""
    return str(exc).replace(source.gdal_path, source.name).replace(str(source.path), source.name)


def read_frame(source: SafeSource, *, layer: str | None = None, **kwargs) -> gpd.GeoDataFrame:
    """Read one layer of a checked source into a GeoDataFrame (pyogrio, the source's driver only).

    A file with several layers needs ``layer``: the error names the layers. ``kwargs`` go to
    :func:`pyogrio.read_dataframe` (``encoding``, open options such as ``DATE_AS_STRING``).
    """
    layers = list_layers(source)
    if layer is None and len(layers) > 1:
        raise MissingColumnError(
            f"{source.name}: the {source.format} holds {len(layers)} layers ({', '.join(layers)}); which one?",
            hint=f"choose one with --layer (e.g. --layer {layers[0]})", context={"file": source.name, "layers": layers})
    if layer is not None and layer not in layers:
        raise MissingColumnError(f"{source.name}: no layer {layer!r} (layers: {', '.join(layers) or 'none'})",
                                 hint="pass one of the listed layer names", context={"file": source.name,
                                                                                      "layers": layers})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.simplefilter("ignore", UserWarning)
            return pyogrio.read_dataframe(source.gdal_path, layer=layer, **kwargs)
    except UnicodeDecodeError:
        raise
    except shapely.errors.GEOSException as exc:  # e.g. GDAL hands over a ring that is not closed
        raise _refuse(source.name, f"a geometry in the file is malformed ({str(exc).split(': ', 1)[-1]})",
                      hint="repair the geometries in a GIS (rings must be closed: last position = first) "
                           "and export again") from None
    except (DataSourceError, DataLayerError) as exc:
        raise _refuse(source.name, f"cannot read it as a {source.format} layer ({_gdal_words(exc, source)})",
                      hint="check that the file is complete and valid; export it again") from None
