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


#: The accepted formats in each language (a parameter of the messages below).
ACCEPTED = {"vi": "GeoJSON (.geojson/.json, UTF-8), GeoPackage (.gpkg) hoặc Shapefile nén (.zip)", "en": ACCEPTED_TEXT}
_FORMAT_WORDS = {"zipped Shapefile": {"vi": "Shapefile nén", "en": "zipped Shapefile"}}


def _format_text(fmt: VectorFormat) -> str | dict[str, str]:
    return _FORMAT_WORDS.get(str(fmt), str(fmt))


def _refuse(name: str, problem: Message, hint: Message | None = None, **context) -> InputError:
    """The refusal of a user's file; ``code`` "input", as when these texts were English only."""
    return InputError(Message("error.file_problem", {"file": name, "problem": problem}),
                      hint=hint or Message("hint.upload_send", {"accepted": ACCEPTED}),
                      context={"file": name, **context}, code="input")


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
        raise _refuse(name, Message("upload.empty"))
    if head.startswith(_SQLITE_MAGIC):
        if len(head) < 72 or head[68:72] not in _GPKG_APPLICATION_IDS:
            raise _refuse(name, Message("upload.sqlite_not_gpkg"), hint=Message("hint.export_gpkg"))
        return VectorFormat.geopackage
    if head.startswith(_ZIP_MAGIC):
        return VectorFormat.zipped_shapefile
    if head.startswith(_SHP_MAGIC) and suffix == ".shp":
        if not allow_plain_shapefile:
            raise _refuse(name, Message("upload.bare_shp"), hint=Message("hint.zip_shapefile_parts"))
        return VectorFormat.shapefile
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise EncodingError(Message("error.file_problem", {"file": name, "problem": Message("upload.utf16")}),
                            hint=Message("hint.resave_utf8"), context={"file": name}, code="encoding")
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    if text.startswith(b"{"):
        return VectorFormat.geojson
    if text.startswith(b"<"):
        raise _refuse(name, Message("upload.xml"), hint=Message("hint.upload_xml", {"accepted": ACCEPTED}))
    raise _refuse(name, Message("upload.not_accepted", {"accepted": ACCEPTED}))


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
        raise _refuse(name, Message("upload.gpkg_sqlite", {"reason": str(exc)}),
                      hint=Message("hint.damaged_export")) from None
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
        listed = ", ".join(refused[:5]) + ("…" if len(refused) > 5 else "")  # SQL object kinds and names, as SQLite
        raise _refuse(name, Message("upload.gpkg_sql", {"objects": listed}), hint=Message("hint.gpkg_tables"),
                      objects=refused)


def _extract_shapefile_zip(path: Path, name: str, folder: Path) -> Path:
    """Check a zip's members and extract its one Shapefile set into ``folder``; the .shp's path."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _refuse(name, Message("upload.zip_unreadable", {"reason": str(exc)}), hint=Message("hint.zip_again")) from None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > MAX_ZIP_MEMBERS:
            raise _refuse(name, Message("upload.zip_many", {"n": len(members)}), hint=Message("hint.zip_one_layer"))
        sets: dict[str, dict[str, zipfile.ZipInfo]] = {}
        unexpected = []
        total = 0
        for member in members:
            pure = PurePosixPath(member.filename.replace("\\", "/"))
            mode = member.external_attr >> 16
            if pure.is_absolute() or ".." in pure.parts or stat.S_ISLNK(mode):
                raise _refuse(name, Message("upload.zip_outside", {"member": repr(member.filename)}),
                              hint=Message("hint.zip_direct"))
            if member.flag_bits & 0x1:
                raise _refuse(name, Message("upload.zip_encrypted"), hint=Message("hint.zip_no_password"))
            lower = pure.name.lower()
            suffix = ".shp.xml" if lower.endswith(".shp.xml") else pure.suffix.lower()
            if suffix in _SHAPEFILE_IGNORED or pure.name.startswith("._") or "__MACOSX" in pure.parts:
                continue
            if suffix not in _SHAPEFILE_PARTS:
                unexpected.append(member.filename)
                continue
            stem = str(pure.with_suffix("")).lower()
            if suffix in sets.setdefault(stem, {}):
                raise _refuse(name, Message("upload.zip_twice", {"member": repr(member.filename)}),
                              hint=Message("hint.zip_one_set"))
            sets[stem][suffix] = member
            total += member.file_size
            if member.file_size > MAX_ZIP_RATIO * max(member.compress_size, 1) and member.file_size > 1 << 20:
                raise _refuse(name, Message("upload.zip_bomb", {"member": repr(member.filename),
                                                               "size": member.file_size,
                                                               "packed": member.compress_size}),
                              hint=Message("hint.zip_ordinary"))
        if unexpected:
            raise _refuse(name, Message("upload.zip_unexpected", {"files": ", ".join(unexpected[:5])}),
                          hint=Message("hint.zip_one_layer"))
        shapefile_sets = {stem: parts for stem, parts in sets.items() if ".shp" in parts}
        if len(shapefile_sets) != 1 or len(sets) != 1:
            found = ", ".join(sorted(f"{stem}.shp" for stem in shapefile_sets)) or {"vi": "không có", "en": "none"}
            raise _refuse(name, Message("upload.zip_sets", {"found": found}), hint=Message("hint.zip_one_layer_named"))
        if total > MAX_ZIP_UNPACKED_BYTES:
            raise _refuse(name, Message("upload.zip_too_big", {"total": total, "max": MAX_ZIP_UNPACKED_BYTES}),
                          hint=Message("hint.split_layer"))
        (parts,) = shapefile_sets.values()
        missing = [s for s in _SHAPEFILE_REQUIRED if s not in parts]
        if missing:
            raise _refuse(name, Message("upload.zip_missing", {"missing": {"vi": " hoặc ".join(missing),
                                                                          "en": " or ".join(missing)}}),
                          hint=Message("hint.shapefile_parts"))
        for suffix, member in parts.items():
            target = folder / f"layer{suffix}"
            with archive.open(member) as source, target.open("wb") as sink:
                shutil.copyfileobj(source, sink, length=1 << 20)
    shp = folder / "layer.shp"
    if not _head(shp, 4).startswith(_SHP_MAGIC):
        raise _refuse(name, Message("upload.not_shp"), hint=Message("hint.zip_again"))
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
        raise _refuse(name, Message("upload.local_only"), hint=Message("hint.download_first"))
    if not path.exists():
        raise InputError(Message("error.file_not_found", {"path": str(path)}), hint=Message("hint.check_path"),
                         context={"file": name})
    if not path.is_file():
        raise _refuse(name, Message("upload.not_regular"), hint=Message("hint.layer_path"))
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
        # GDAL's own words stay in English (and in the context): the Vietnamese text names the format only
        reason = _gdal_words(exc, source)
        raise _refuse(source.name, Message("upload.cannot_open", {"format": _format_text(source.format),
                                                                  "reason": reason}),
                      hint=Message("hint.file_complete"), reason=reason) from None


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
            Message("error.file_problem", {"file": source.name, "problem": Message("upload.several_layers", {
                "format": _format_text(source.format), "n": len(layers), "layers": ", ".join(layers)})}),
            hint=Message("hint.choose_layer", {"first": layers[0]}), context={"file": source.name, "layers": layers},
            code="missing_column")
    if layer is not None and layer not in layers:
        raise MissingColumnError(
            Message("error.file_problem", {"file": source.name, "problem": Message("upload.no_layer", {
                "layer": repr(layer), "layers": ", ".join(layers) or {"vi": "không có", "en": "none"}})}),
            hint=Message("hint.listed_layer"), context={"file": source.name, "layers": layers}, code="missing_column")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.simplefilter("ignore", UserWarning)
            return pyogrio.read_dataframe(source.gdal_path, layer=layer, **kwargs)
    except UnicodeDecodeError:
        raise
    except shapely.errors.GEOSException as exc:  # e.g. GDAL hands over a ring that is not closed
        raise _refuse(source.name, Message("upload.malformed_geometry", {"reason": str(exc).split(": ", 1)[-1]}),
                      hint=Message("hint.repair_geometries")) from None
    except (DataSourceError, DataLayerError) as exc:
        reason = _gdal_words(exc, source)
        raise _refuse(source.name, Message("upload.cannot_read", {"format": _format_text(source.format),
                                                                  "reason": reason}),
                      hint=Message("hint.file_complete_valid"), reason=reason) from None
