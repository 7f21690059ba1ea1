"""Text encodings of shapefile DBFs, including the legacy Vietnamese 8-bit "font" encodings.

Provincial shapefiles often store names in one of four encodings:

* ``utf-8``  — modern files, usually with a ``.cpg`` file saying so;
* ``cp1258`` — Windows-1258: base letters plus *combining* tone marks (``ễ`` = ``ê`` + U+0303);
* ``tcvn3``  — TCVN 5712:1993 (the ABC / ``.VnTime`` fonts): one byte per letter. The
  ``.VnTime`` fonts use the VN3 subset (``A1``–``FF``); the full standard (VN1) also places
  the capital letters with tone marks in ``80``–``9F`` and in a few C0 positions, and the
  bare tone marks in ``B0``–``B4``. We read and write the full table, so both decode;
* ``vni``    — VNI-Windows (the ``VNI-Times`` fonts): a base letter followed by one
  "mark" byte that carries the hat/breve and the tone (``ễ`` = ``e`` + ``E3``), with
  single bytes for ``đ ơ ư``, the toned ``i`` and ``ỵ``.

Read as UTF-8 or Latin-1, such names come out as mojibake ("§øc Xu©n" for TCVN3 "Đức Xuân").
:func:`detect_dbf_encoding` honours a ``.cpg`` file, otherwise it decodes the raw bytes of
the DBF's character fields with each candidate and keeps the one whose text looks most like
Vietnamese (share of words that are well-formed Vietnamese syllables).

Every decoded string is returned in Unicode NFC, the form Vietnamese text is stored in.
"""
from __future__ import annotations

import logging
import os
import re
import struct
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from diagioi.geo.errors import EncodingError
from diagioi.geo.i18n import Message

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "LEGACY_ENCODINGS",
    "RAW_READ_ENCODING",
    "decode_bytes",
    "encode_text",
    "guess_encoding",
    "detect_dbf_encoding",
    "read_dbf_text_columns",
    "fix_legacy_text_columns",
]

logger = logging.getLogger(__name__)

LEGACY_ENCODINGS = ("utf-8", "cp1258", "tcvn3", "vni")

# Encoding to pass to geopandas/pyogrio to get the DBF's bytes one character per byte, for
# :func:`fix_legacy_text_columns`. GDAL knows "ISO-8859-1" and "latin1" but not "latin-1"
# (with that name pyogrio ends up decoding the bytes as UTF-8 and fails). Use it for cp1258
# too: GDAL 3.12's iconv-based CP1258 recoding drops the last character of every value.
RAW_READ_ENCODING = "ISO-8859-1"


# Spellings people and tools use for the four encodings (upper-cased, '_' and ' ' → '-').
_ENCODING_ALIASES = {
    "UTF-8": "utf-8", "UTF8": "utf-8", "65001": "utf-8", "CP65001": "utf-8",
    "CP1258": "cp1258", "1258": "cp1258", "WINDOWS-1258": "cp1258", "WIN-1258": "cp1258",
    "ANSI-1258": "cp1258", "MS-1258": "cp1258",
    "TCVN3": "tcvn3", "TCVN": "tcvn3", "TCVN-3": "tcvn3", "TCVN5712": "tcvn3", "TCVN-5712": "tcvn3",
    "TCVN5712-1": "tcvn3", "ABC": "tcvn3", "VN3": "tcvn3",
    "VNI": "vni", "VNI-WINDOWS": "vni", "VNI-WIN": "vni",
}

# ---------------------------------------------------------------------------------------------
# Vietnamese letters
# ---------------------------------------------------------------------------------------------

# Combining tone marks in the order of the usual tone numbering:
# 1 sắc (acute), 2 huyền (grave), 3 hỏi (hook above), 4 ngã (tilde), 5 nặng (dot below).
_ACUTE, _GRAVE, _HOOK, _TILDE, _DOT = "\u0301", "\u0300", "\u0309", "\u0303", "\u0323"
_TONES = (_ACUTE, _GRAVE, _HOOK, _TILDE, _DOT)
_CIRCUMFLEX, _BREVE, _HORN = "\u0302", "\u0306", "\u031b"

_VOWELS = "aăâeêioôơuưy"


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _vietnamese_letters() -> list[str]:
    """The 67 lower-case non-ASCII Vietnamese letters and their 67 capitals (NFC)."""
    lower = [_nfc(vowel + tone) for vowel in _VOWELS for tone in ("", *_TONES)]
    lower = [letter for letter in lower if not letter.isascii()] + ["đ"]
    return lower + [letter.upper() for letter in lower]


VIETNAMESE_LETTERS = tuple(_vietnamese_letters())


def _split_letter(letter: str) -> tuple[str, str, str]:
    """'ễ' → ('e', circumflex, tilde): ASCII base (or 'đ'), hat/breve/horn mark, tone mark."""
    decomposed = unicodedata.normalize("NFD", letter)
    base = decomposed[0]
    marks = decomposed[1:]
    modifier = "".join(m for m in marks if m in (_CIRCUMFLEX, _BREVE, _HORN))
    tone = "".join(m for m in marks if m in _TONES)
    return base, modifier, tone


# ---------------------------------------------------------------------------------------------
# TCVN3 (TCVN 5712:1993, full VN1 table)
# ---------------------------------------------------------------------------------------------

# Byte → letter for every byte that differs from ASCII/Latin-1. Rows are written as
# (first byte, letters) runs; bytes not listed decode as Latin-1 (0xA0 NBSP, 0xFD 'ý').
_TCVN3_RUNS = (
    # capitals with tone marks that VN1 puts in C0 positions
    (0x01, "ÚỤ"), (0x04, "ỪỬỮ"), (0x11, "ỨỰỲỶỸÝỴ"),
    # capitals with tone marks, 0x80-0x9F
    (0x80, "ÀẢÃÁẠẶẬÈẺẼÉẸỆÌỈĨÍỊÒỎÕÓỌỘỜỞỠỚỢÙỦŨ"),
    # the VN3 core: base letters with hat/breve/horn and đ
    (0xA1, "ĂÂÊÔƠƯĐăâêôơưđ"),
    (0xAF, "Ằ"),
    # bare tone marks (grave, hook, tilde, acute, dot below)
    (0xB0, "\u0300\u0309\u0303\u0301\u0323"),
    (0xB5, "àảãáạ"), (0xBA, "Ẳ"), (0xBB, "ằẳẵắ"), (0xBF, "ẴẮẦẨẪẤỀ"),
    (0xC6, "ặầẩẫấậè"), (0xCD, "Ể"), (0xCE, "ẻẽéẹềểễếệìỉ"),
    (0xD9, "ỄẾỒ"), (0xDC, "ĩíịò"), (0xE0, "Ổ"),
    (0xE1, "ỏõóọồổỗốộờởỡớợù"), (0xF0, "Ỗ"), (0xF1, "ủũúụừửữứựỳỷỹ"), (0xFE, "ỵ"), (0xFF, "Ố"),
)


def _tcvn3_table() -> tuple[str, ...]:
    table = [chr(byte) for byte in range(256)]
    for first, letters in _TCVN3_RUNS:
        for offset, letter in enumerate(letters):
            table[first + offset] = letter
    return tuple(table)


_TCVN3_DECODE = _tcvn3_table()
_TCVN3_ENCODE = {char: bytes([byte]) for byte, char in enumerate(_TCVN3_DECODE)}
# ASCII control bytes that TCVN3 uses for capitals: the only ASCII bytes it reads differently.
_TCVN3_C0_LETTER_BYTES = frozenset(byte for byte in range(0x20) if _TCVN3_DECODE[byte] != chr(byte))


# ---------------------------------------------------------------------------------------------
# VNI-Windows
# ---------------------------------------------------------------------------------------------

# Lower-case mark byte per (hat/breve/horn group, tone); capitals use the byte - 0x20.
_VNI_MARK_BYTE: dict[tuple[str, str], int | None] = {
    ("", ""): None, ("", _ACUTE): 0xF9, ("", _GRAVE): 0xF8, ("", _HOOK): 0xFB,
    ("", _TILDE): 0xF5, ("", _DOT): 0xEF,
    (_CIRCUMFLEX, ""): 0xE2, (_CIRCUMFLEX, _ACUTE): 0xE1, (_CIRCUMFLEX, _GRAVE): 0xE0,
    (_CIRCUMFLEX, _HOOK): 0xE5, (_CIRCUMFLEX, _TILDE): 0xE3, (_CIRCUMFLEX, _DOT): 0xE4,
    (_BREVE, ""): 0xEA, (_BREVE, _ACUTE): 0xE9, (_BREVE, _GRAVE): 0xE8,
    (_BREVE, _HOOK): 0xFA, (_BREVE, _TILDE): 0xFC, (_BREVE, _DOT): 0xEB,
}
# Letters VNI writes as one byte of their own (lower case; capitals at byte - 0x20).
# The toned i and ỵ have their own glyphs because the mark would clash with the dot/descender.
_VNI_SINGLE_BYTE = {
    "đ": 0xF1, "ơ": 0xF4, "ư": 0xF6,
    "í": 0xED, "ì": 0xEC, "ỉ": 0xE6, "ĩ": 0xF3, "ị": 0xF2, "ỵ": 0xEE,
}


def _vni_letter_bytes(letter: str) -> bytes:
    lower = letter.lower()
    capital = letter != lower
    shift = 0x20 if capital else 0
    if lower in _VNI_SINGLE_BYTE:
        return bytes([_VNI_SINGLE_BYTE[lower] - shift])
    base, modifier, tone = _split_letter(lower)
    if modifier == _HORN:  # ơ / ư are single bytes, followed by a plain tone byte
        prefix = bytes([_VNI_SINGLE_BYTE[_nfc(base + _HORN)] - shift])
        modifier = ""
    else:
        prefix = (base.upper() if capital else base).encode("ascii")
    mark = _VNI_MARK_BYTE[(modifier, tone)]
    return prefix if mark is None else prefix + bytes([mark - shift])


_VNI_ENCODE = {letter: _vni_letter_bytes(letter) for letter in VIETNAMESE_LETTERS}


def _vni_decode_table() -> tuple[str, ...]:
    # Bytes VNI does not use show the Windows-1252 glyph of the font (Latin-1 where 1252 has a hole).
    table = [bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in range(256)]
    for (modifier, tone), byte in _VNI_MARK_BYTE.items():
        if byte is not None:
            table[byte] = table[byte - 0x20] = modifier + tone
    for letter, byte in _VNI_SINGLE_BYTE.items():
        table[byte] = letter
        table[byte - 0x20] = letter.upper()
    return tuple(table)


_VNI_DECODE = _vni_decode_table()
# Characters other than Vietnamese letters that VNI can write: ASCII and unused 1252 glyphs.
_VNI_OTHER_ENCODE = {
    char: bytes([byte]) for byte, char in enumerate(_VNI_DECODE)
    if len(char) == 1 and unicodedata.category(char) != "Mn" and char not in _VNI_ENCODE
}


# ---------------------------------------------------------------------------------------------
# decode / encode
# ---------------------------------------------------------------------------------------------

def _canonical_encoding(encoding: str) -> str:
    key = re.sub(r"[\s_]+", "-", str(encoding).strip().upper())
    if key in _ENCODING_ALIASES:
        return _ENCODING_ALIASES[key]
    raise EncodingError(
        Message("error.encoding_unknown", {"encoding": repr(encoding)}),
        hint=Message("hint.encoding_choices", {"encodings": ", ".join(LEGACY_ENCODINGS)}),
        context={"encoding": encoding}, code="encoding",
    )


def decode_bytes(raw: bytes, encoding: str) -> str:
    """Decode ``raw`` text bytes in ``encoding`` (see :data:`LEGACY_ENCODINGS`) to NFC text.

    >>> decode_bytes(b"\\xa7\\xf8c Xu\\xa9n", "tcvn3")
    'Đức Xuân'

    Raises :class:`EncodingError` (with the byte offset) when the bytes are not valid in that
    encoding (UTF-8 and Windows-1258 have invalid bytes; every byte means something in TCVN3 and VNI).
    """
    name = _canonical_encoding(encoding)
    raw = bytes(raw)
    if name in ("utf-8", "cp1258"):
        try:
            text = raw.decode(name)
        except UnicodeDecodeError as exc:
            snippet = raw[max(0, exc.start - 8): exc.end + 8]
            raise EncodingError(
                Message("error.encoding_invalid_byte", {"encoding": name, "byte": f"0x{raw[exc.start]:02X}",
                                                        "offset": exc.start, "snippet": repr(snippet)}),
                hint=Message("hint.encoding_explicit"),
                context={"encoding": name, "offset": exc.start}, code="encoding",
            ) from exc
    elif name == "tcvn3":
        text = "".join(_TCVN3_DECODE[byte] for byte in raw)
    else:
        text = "".join(_VNI_DECODE[byte] for byte in raw)
    return _nfc(text)


def _cp1258_char_bytes(char: str) -> bytes:
    try:
        return char.encode("cp1258")
    except UnicodeEncodeError:
        pass
    # Windows-1258 has the hatted/horned base letters but most toned letters only as
    # base + combining tone mark.
    decomposed = unicodedata.normalize("NFD", char)
    base = _nfc("".join(c for c in decomposed if c not in _TONES))
    tones = "".join(c for c in decomposed if c in _TONES)
    return (base + tones).encode("cp1258")


def encode_text(text: str, encoding: str) -> bytes:
    """Encode ``text`` in ``encoding`` the way legacy Vietnamese software wrote it (for fixtures).

    >>> encode_text("Đức Xuân", "vni")
    b'\\xd1\\xf6\\xf9c Xua\\xe2n'

    Raises :class:`EncodingError` naming the first character the encoding cannot represent.
    """
    name = _canonical_encoding(encoding)
    text = _nfc(text)
    if name == "utf-8":
        return text.encode("utf-8")
    chunks: list[bytes] = []
    for position, char in enumerate(text):
        try:
            if name == "cp1258":
                chunks.append(_cp1258_char_bytes(char))
            elif name == "tcvn3":
                chunks.append(_TCVN3_ENCODE[char])
            else:
                chunks.append(_VNI_ENCODE.get(char) or _VNI_OTHER_ENCODE[char])
        except (KeyError, UnicodeEncodeError) as exc:
            raise EncodingError(
                f"Character {char!r} (U+{ord(char):04X}) at position {position} of {text!r} "
                f"cannot be written in {name}",
                hint="use utf-8 for text outside the Vietnamese alphabet",
                context={"encoding": name, "position": position},
            ) from exc
    return b"".join(chunks)


# ---------------------------------------------------------------------------------------------
# Guessing
# ---------------------------------------------------------------------------------------------

# A Vietnamese syllable: onset + vowel nucleus + final consonant, with at most one tone mark
# placed where Vietnamese places it. Onsets are loose (ethnic-minority place names have
# clusters: "Rlấp", "Krông"); nuclei, finals and tone placement are strict, which is what tells
# Vietnamese from mojibake ("§øc", "Xu©n", "XuÊt", "Kaũn").
_ONSET = re.compile(r"(?:qu|gi|[bcdđfghjklmnpqrstvwxz]{1,4})?")
_FINALS = ("", "c", "ch", "k", "m", "n", "ng", "nh", "p", "t")
_STOP_FINALS = {"c", "ch", "k", "p", "t"}  # after a stop only the sắc and nặng tones exist
_NUCLEI_OPEN_ONLY = set(  # end in a glide or are rising diphthongs: never followed by a final
    "ai ao au ay âu ây eo êu ia iu oi ôi ơi ui ưi ưu ua ưa ya uơ "
    "iêu yêu oai oay oao oeo uây uôi ươi ươu uya uyu".split()
)
_NUCLEI_CLOSED_ONLY = {"iê", "yê", "uô", "ươ", "oo", "uyê", "oă", "uâ"}  # need a final consonant
_NUCLEI_ANY = set("a ă â e ê i o ô ơ u ư y oa oe uê uy".split())
_NUCLEI = _NUCLEI_OPEN_ONLY | _NUCLEI_CLOSED_ONLY | _NUCLEI_ANY
_HATTED = set("ăâêôơư")
# Open diphthongs of plain vowels whose tone may sit on either vowel (old "hoà"/"thuý", new "hòa"/"thúy").
_EITHER_TONE_SEAT = {"oa", "oe", "uy"}


def _tone_seats(nucleus: str, final: str) -> set[int]:
    """Positions in ``nucleus`` where the tone mark may be written."""
    hatted = [index for index, vowel in enumerate(nucleus) if vowel in _HATTED]
    if hatted:
        return {hatted[-1]}
    if len(nucleus) == 1 or final:
        return {len(nucleus) - 1}
    if nucleus in _EITHER_TONE_SEAT:
        return {0, 1}
    if len(nucleus) == 3:  # oai, oay, uya, uyu, oeo, oao
        return {1}
    return {0}


def _is_vietnamese_word(token: str) -> bool:
    """True when ``token`` is a well-formed Vietnamese syllable (any case: lower, Title, UPPER)."""
    if not (token.islower() or token.isupper() or token.istitle()):
        return False
    letters: list[str] = []
    tone_at: int | None = None
    tone = ""
    for index, char in enumerate(token.lower()):
        decomposed = unicodedata.normalize("NFD", char)
        marks = [mark for mark in decomposed if mark in _TONES]
        if marks:
            if tone_at is not None or len(marks) > 1:
                return False
            tone_at, tone = index, marks[0]
        letters.append(_nfc("".join(ch for ch in decomposed if ch not in _TONES)))
    toneless = "".join(letters)
    if len(toneless) != len(letters):  # a stray combining mark, or a letter that does not recompose
        return False
    for onset_length in range(min(4, len(toneless)) + 1):
        if not _ONSET.fullmatch(toneless[:onset_length]):
            continue
        for final in _FINALS:
            if final and not toneless.endswith(final):
                continue
            nucleus = toneless[onset_length: len(toneless) - len(final)]
            if nucleus not in _NUCLEI:
                continue
            if final and nucleus in _NUCLEI_OPEN_ONLY or not final and nucleus in _NUCLEI_CLOSED_ONLY:
                continue
            if final in _STOP_FINALS and tone not in ("", _ACUTE, _DOT):
                continue
            if tone_at is None or tone_at - onset_length in _tone_seats(nucleus, final):
                return True
    return False


_TOKEN_SPLIT = re.compile(r"[\s\-.,;:/()'\"_&+0-9]+")


def _plausibility(texts: Iterable[str]) -> tuple[int, int]:
    """(well-formed words, words that contain any non-ASCII or control character)."""
    valid = marked = 0
    for text in texts:
        for token in _TOKEN_SPLIT.split(text):
            if not token or (token.isascii() and token.isprintable()):
                continue
            marked += 1
            valid += _is_vietnamese_word(token)
    return valid, marked


def _candidate_scores(samples: list[bytes]) -> dict[str, float]:
    """Share of non-ASCII words that are Vietnamese syllables, per decodable encoding."""
    scores: dict[str, float] = {}
    for name in LEGACY_ENCODINGS:
        try:
            texts = [decode_bytes(sample, name) for sample in samples]
        except EncodingError:
            scores[name] = 0.0
            continue
        valid, marked = _plausibility(texts)
        scores[name] = valid / marked if marked else 1.0
    return scores


def guess_encoding(samples: list[bytes]) -> tuple[str, float]:
    """Guess which of :data:`LEGACY_ENCODINGS` the byte strings ``samples`` are written in.

    Each candidate decodes every sample; its score is the share of words with non-ASCII
    characters that are well-formed Vietnamese syllables (one tone mark at most, a real vowel
    cluster, letters of the Vietnamese alphabet only; C1 controls, stray combining marks and
    mojibake such as "Ã", "§", "©" fail). Returns the best candidate and a confidence in
    [0, 1]: the best score minus the runner-up's. Pure-ASCII samples read the same in every
    encoding, so they give ``("utf-8", 1.0)``.
    """
    samples = [bytes(sample) for sample in samples]
    if all(sample.isascii() and not _TCVN3_C0_LETTER_BYTES.intersection(sample) for sample in samples):
        return "utf-8", 1.0
    scores = _candidate_scores(samples)
    # Ties keep the order of LEGACY_ENCODINGS (utf-8 first): sorted() is stable.
    ranked = sorted(scores.items(), key=lambda item: -item[1])
    (best, best_score), (_, second_score) = ranked[0], ranked[1]
    logger.debug("encoding scores: %s", {name: round(score, 3) for name, score in ranked})
    return best, max(0.0, best_score - second_score)


# ---------------------------------------------------------------------------------------------
# DBF files
# ---------------------------------------------------------------------------------------------

_MIN_CONFIDENCE = 0.5
_MAX_SAMPLE_VALUES = 5000


def _sibling(path: Path, suffix: str) -> Path | None:
    for candidate in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
        if candidate.exists():
            return candidate
    return None


def _dbf_path(shp_or_dbf_path: str | os.PathLike) -> Path:
    path = Path(shp_or_dbf_path)
    dbf = path if path.suffix.lower() == ".dbf" and path.exists() else _sibling(path, ".dbf")
    if dbf is None:
        raise EncodingError(
            Message("error.dbf_missing", {"file": path.name}), hint=Message("hint.dbf_missing"),
            context={"file": str(path)}, code="encoding",
        )
    return dbf


def _read_character_fields(dbf: Path) -> tuple[list[bytes], list[list[bytes]]]:
    """Raw names and raw (stripped) values of the 'C' fields of a dBASE file, skipping deleted records."""
    data = dbf.read_bytes()
    if len(data) < 32:
        raise EncodingError(Message("error.dbf_too_short", {"file": dbf.name}), hint=Message("hint.dbf_reexport"),
                            context={"file": str(dbf)}, code="encoding")
    record_count, header_length, record_length = struct.unpack_from("<IHH", data, 4)
    fields: list[tuple[bytes, bytes, int, int]] = []  # name, type, offset in record, length
    offset_in_record = 1  # byte 0 of each record is the deletion flag
    position = 32
    while position + 32 <= header_length and data[position] != 0x0D:
        descriptor = data[position: position + 32]
        name = descriptor[:11].split(b"\x00", 1)[0]
        field_type = descriptor[11:12]
        length = descriptor[16]
        fields.append((name, field_type, offset_in_record, length))
        offset_in_record += length
        position += 32
    if offset_in_record != record_length:
        raise EncodingError(
            Message("error.dbf_damaged", {"file": dbf.name, "fields": offset_in_record, "record": record_length}),
            hint=Message("hint.dbf_damaged"), context={"file": str(dbf)}, code="encoding",
        )
    text_fields = [(name, start, length) for name, kind, start, length in fields if kind.upper() == b"C"]
    names = [name for name, _, _ in text_fields]
    columns: list[list[bytes]] = [[] for _ in text_fields]
    for index in range(record_count):
        start = header_length + index * record_length
        record = data[start: start + record_length]
        if len(record) < record_length:
            raise EncodingError(
                f"{dbf.name}: header announces {record_count} records but the file holds {index}",
                hint="the .dbf file is truncated; re-export the shapefile",
                context={"file": str(dbf)},
            )
        if record[:1] == b"*":  # deleted; GDAL does not return these rows either
            continue
        for column, (_, field_start, length) in zip(columns, text_fields):
            # GDAL trims leading and trailing blanks of character fields
            column.append(record[field_start: field_start + length].rstrip(b"\x00").strip(b" "))
    return names, columns


def _encoding_from_cpg(cpg: Path) -> str | None:
    declared = cpg.read_bytes().decode("ascii", errors="replace").strip()
    key = re.sub(r"[\s_]+", "-", declared.upper())
    if key in _ENCODING_ALIASES:
        return _ENCODING_ALIASES[key]
    # A .cpg naming a Western code page (1252, ISO-8859-1...) is what tools wrote for
    # TCVN3/VNI data too, so it says nothing about the Vietnamese font encoding: guess instead.
    logger.info("%s declares %r, not a Vietnamese encoding; guessing from the text", cpg.name, declared)
    return None


def detect_dbf_encoding(shp_or_dbf_path: str | os.PathLike) -> str:
    """Encoding to read a shapefile's attributes with: "utf-8", "cp1258", "tcvn3" or "vni".

    A ``.cpg`` file naming one of those (``UTF-8``, ``65001``, ``1258``...) is honoured, after
    checking that the text really decodes with it. Otherwise the raw bytes of the DBF's
    character fields are scored with :func:`guess_encoding`. Raises :class:`EncodingError`
    when the file is undecidable, telling the user to pass ``--encoding``.
    """
    dbf = _dbf_path(shp_or_dbf_path)
    _, columns = _read_character_fields(dbf)
    samples = list(dict.fromkeys(value for column in columns for value in column if value))
    samples = samples[:_MAX_SAMPLE_VALUES]
    cpg = _sibling(dbf, ".cpg")
    declared = _encoding_from_cpg(cpg) if cpg is not None else None
    if declared is not None:
        for sample in samples:
            try:
                decode_bytes(sample, declared)
            except EncodingError as exc:
                raise EncodingError(
                    Message("error.cpg_mismatch", {"cpg": cpg.name, "declared": declared, "file": dbf.name,
                                                   "reason": exc.detail_message or exc.message}),
                    hint=Message("hint.cpg_mismatch"),
                    context={"file": str(dbf), "declared": declared}, code="encoding",
                ) from exc
        return declared
    encoding, confidence = guess_encoding(samples)
    if confidence < _MIN_CONFIDENCE:
        scores = _candidate_scores(samples)
        raise EncodingError(
            Message("error.encoding_unclear", {"file": dbf.name,
                                               "scores": ", ".join(f"{name} {score:.0%}" for name, score in scores.items())}),
            hint=Message("hint.encoding_explicit"),
            context={"file": str(dbf), "scores": scores}, code="encoding",
        )
    logger.info("%s: text encoding guessed as %s (confidence %.2f)", dbf.name, encoding, confidence)
    return encoding


def read_dbf_text_columns(path: str | os.PathLike, encoding: str) -> dict[str, list[str | None]]:
    """Decode every character ('C') field of a DBF (or the DBF beside a .shp) in ``encoding``.

    Returns ``{field name: values}`` in record order, deleted records skipped, values trimmed
    of blanks as GDAL does; a blank value is ``None`` (GDAL's null). Names are decoded too.
    """
    names, columns = _read_character_fields(_dbf_path(path))
    return {
        decode_bytes(name, encoding): [decode_bytes(value, encoding) if value else None for value in column]
        for name, column in zip(names, columns)
    }


def fix_legacy_text_columns(
    gdf: "gpd.GeoDataFrame", raw_dbf_path: str | os.PathLike, encoding: str
) -> "gpd.GeoDataFrame":
    """Replace the text columns of a frame read with ``encoding=RAW_READ_ENCODING`` by decoded ones.

    Latin-1 maps each byte to one character, so the frame's text is the DBF's bytes; each
    value is checked against the raw DBF bytes (same row order, same count) before it is
    replaced, so a frame that was filtered or re-ordered raises instead of being mislabelled.
    Columns named in a legacy encoding are renamed to their decoded name. Returns a copy.
    """
    names, columns = _read_character_fields(_dbf_path(raw_dbf_path))
    fixed = gdf.copy()
    renames: dict[str, str] = {}
    for raw_name, raw_values in zip(names, columns):
        latin1_name = raw_name.decode("latin-1")
        if latin1_name not in fixed.columns:
            raise EncodingError(
                f"Column {latin1_name!r} of the DBF is not in the frame",
                hint=f"read the file with encoding={RAW_READ_ENCODING!r} and keep its text columns",
                context={"file": str(raw_dbf_path), "column": latin1_name},
            )
        if len(raw_values) != len(fixed):
            raise EncodingError(
                f"The frame has {len(fixed)} rows but the DBF has {len(raw_values)} records",
                hint="fix the text columns right after reading, before filtering rows",
                context={"file": str(raw_dbf_path)},
            )
        decoded: list[str | None] = []
        for row, (frame_value, raw_value) in enumerate(zip(fixed[latin1_name], raw_values)):
            frame_text = frame_value.strip(" ") if isinstance(frame_value, str) else ""
            if frame_text != raw_value.decode("latin-1"):
                raise EncodingError(
                    f"Row {row} of column {latin1_name!r} does not match the DBF record "
                    f"({frame_value!r} in the frame, {raw_value.decode('latin-1')!r} in the file)",
                    hint=f"read the file with encoding={RAW_READ_ENCODING!r} and fix the text columns "
                    "before changing rows",
                    context={"file": str(raw_dbf_path), "column": latin1_name, "row": row},
                )
            decoded.append(decode_bytes(raw_value, encoding) if raw_value else frame_value)
        fixed[latin1_name] = decoded
        decoded_name = decode_bytes(raw_name, encoding)
        if decoded_name != latin1_name:
            renames[latin1_name] = decoded_name
    return fixed.rename(columns=renames) if renames else fixed
