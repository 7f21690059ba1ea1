"""The write key: where it comes from, how it is checked, and who it stands for in the audit log.

There is one key per data directory. ``DIAGIOI_TOKEN`` (or ``--token``) sets it; otherwise it is
generated once and kept in ``<data dir>/token`` (mode 0600, owner only), so a browser that holds it
keeps working after a restart. Nothing hands the key out on request: ``diagioi serve`` prints a login
URL carrying it in the fragment (``http://127.0.0.1:8000/#token=…``), which the browser never sends
to a server, a proxy or a log.
"""
from __future__ import annotations

import hashlib
import os
import secrets
import stat
import tempfile
from pathlib import Path

from diagioi.geo.errors import DiagioiError
from diagioi.geo.i18n import Message

TOKEN_FILE = "token"
_MIN_LENGTH = 16


def key_identity(token: str) -> str:
    """The name recorded in the audit log for writes made with ``token``: ``key:`` and 8 hex digits of
    its SHA-256 (tells which key wrote — it changes when the key is replaced — without revealing it)."""
    return "key:" + hashlib.sha256(token.encode()).hexdigest()[:8]


def tokens_match(candidate: str, token: str) -> bool:
    """Constant-time comparison of a presented key with the server's."""
    return secrets.compare_digest(candidate.encode(), token.encode())


def load_or_create_token(data_dir: Path) -> tuple[str, bool]:
    """The key kept in ``data_dir/token``, created on first use; returns ``(token, created_now)``.

    The file is written completely before it appears (a temporary file linked into place), is
    never followed through a symlink, and is refused when other users could read or replace it.
    """
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / TOKEN_FILE
    try:
        return _read_token_file(path), False
    except FileNotFoundError:
        pass
    token = secrets.token_urlsafe(24)
    fd, temporary = tempfile.mkstemp(prefix=".token-", dir=data_dir)  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(token + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:  # another server on this data dir created it first: use theirs
            return _read_token_file(path), False
    finally:
        os.unlink(temporary)
    return token, True


def _read_token_file(path: Path) -> str:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as error:
        if isinstance(error, FileNotFoundError):
            raise
        raise _token_file_error(path, f"cannot be opened ({error.strerror}; a symbolic link is refused)") from error
    with os.fdopen(fd, "r", encoding="ascii", errors="replace") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise _token_file_error(path, "is not a regular file")
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            raise _token_file_error(path, "belongs to another user")
        if info.st_mode & 0o077:
            raise _token_file_error(path, f"can be read or changed by other users (mode {info.st_mode & 0o777:o})")
        token = handle.read(1000).strip()
    if len(token) < _MIN_LENGTH or not token.isascii() or not token.isprintable() or " " in token:
        raise _token_file_error(path, f"does not hold a key (printable ASCII of at least {_MIN_LENGTH} characters)")
    return token


def _token_file_error(path: Path, problem: str) -> DiagioiError:
    return DiagioiError(f"the write key file {path} {problem}",
                        hint=f"delete {path} to have a new key generated at the next start (browsers will "
                             "need the new login URL), or set DIAGIOI_TOKEN")


class WriteKeyRefused(Exception):
    """A write without the token (401) or with a wrong one (403), with what to do in ``hint``."""

    def __init__(self, status_code: int, detail, hint):
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail  # catalogue messages, rendered in the reader's language (``lang``)
        self.hint = hint
        self.lang = "vi"
        self.headers = {"Cache-Control": "no-store"}
        if status_code == 401:
            self.headers["WWW-Authenticate"] = "Bearer"


def bearer_value(authorization: str | None) -> str | None:
    """The credentials of an ``Authorization: Bearer <token>`` header (scheme case-insensitive), else None."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def writer_identity(presented: str | None, token: str) -> str:
    """Who is writing (the audit actor) for a presented token; raises :class:`WriteKeyRefused`."""
    if not presented:
        raise WriteKeyRefused(401, Message("error.write_key_missing"), Message("hint.write_key_missing"))
    if not tokens_match(presented, token):
        raise WriteKeyRefused(403, Message("error.write_key_wrong"), Message("hint.write_key_wrong"))
    return key_identity(token)
