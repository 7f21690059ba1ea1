"""Files sent as multipart/form-data in field ``file``: read, checked by name suffix, kept in a temporary folder.

The suffix only decides whether the upload is worth reading; the bytes decide the format (geo.safe_open).
"""
from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import Request
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from diagioi.geo.errors import DiagioiError, InputError
from diagioi.geo.i18n import Message

UPLOAD_SUFFIXES = {".geojson", ".json", ".gpkg", ".zip"}


async def read_upload(request: Request) -> tuple[FormData, UploadFile, str]:
    """The form, its ``file`` field and the file's suffix, or an InputError that says how to send it."""
    try:
        form = await request.form()
    except (AssertionError, StarletteHTTPException, ValueError) as exc:  # Starlette's 400 for a body it cannot split
        reason = getattr(exc, "detail", None) or str(exc)
        raise InputError(Message("error.upload_unreadable", {"reason": reason}), hint=Message("hint.upload_unreadable"),
                         context={"reason": reason}) from None
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InputError(Message("error.upload_no_file"), hint=Message("hint.upload_no_file"))
    suffix = Path(upload.filename or "").suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise InputError(Message("error.upload_format", {"file": repr(upload.filename)}),
                         hint=Message("hint.upload_format"), context={"file": upload.filename})
    return form, upload, suffix


@contextmanager
def saved_upload(upload: UploadFile, content: bytes, suffix: str) -> Iterator[Path]:
    """The uploaded bytes in a temporary file that keeps the user's file name (errors name it), in safe characters."""
    with tempfile.TemporaryDirectory(prefix="diagioi-upload-") as folder:
        safe_stem = "".join(ch for ch in Path(upload.filename or "upload").stem if ch.isalnum() or ch in "-_.")
        path = Path(folder) / f"{safe_stem.lstrip('.') or 'upload'}{suffix}"
        path.write_bytes(content)
        try:
            yield path
        except DiagioiError as error:
            # The server's temporary folder is nobody's business: an error names the file as it was sent.
            error.context = {key: value.replace(str(path), path.name) if isinstance(value, str) else value
                             for key, value in error.context.items()}
            raise
