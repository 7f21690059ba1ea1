"""Writing export files safely: atomically (temporary file beside the target, then ``os.replace``), and
with no cell a spreadsheet would run as a formula."""
from __future__ import annotations

import contextlib
import csv
import io
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

#: First characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str) -> Iterator[Path]:
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


def is_path(path_or_buffer: Any) -> bool:
    return isinstance(path_or_buffer, (str, os.PathLike))


def write_bytes(data: bytes, path_or_buffer: Any, suffix: str) -> None:
    """``data`` to a path (atomically) or to a binary or text file object."""
    if is_path(path_or_buffer):
        with atomic_path(path_or_buffer, suffix) as temporary:
            temporary.write_bytes(data)
    elif isinstance(path_or_buffer, io.TextIOBase):
        path_or_buffer.write(data.decode("utf-8"))
    else:
        path_or_buffer.write(data)


def spreadsheet_text(value: Any) -> Any:
    """A text cell that no spreadsheet runs: text starting with ``= + - @`` tab or CR gets a
    leading apostrophe (the OWASP rule); numbers and other values are returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def csv_bytes(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """UTF-8 with a BOM (Excel then reads Vietnamese correctly), missing values empty; text that a
    spreadsheet would run as a formula is neutralised (:func:`spreadsheet_text`)."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow([spreadsheet_text(value) for value in header])
    for row in rows:
        writer.writerow(["" if value is None else spreadsheet_text(value) for value in row])
    return text.getvalue().encode("utf-8-sig")


def cells_as_text(workbook) -> None:
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


def save_workbook(workbook, path: Any) -> None:
    """Save an openpyxl workbook to a path (atomically) or a binary file object."""
    cells_as_text(workbook)
    if is_path(path):
        with atomic_path(path, ".xlsx") as temporary:
            workbook.save(temporary)
    else:
        workbook.save(path)


def column_letter(position: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(position)
