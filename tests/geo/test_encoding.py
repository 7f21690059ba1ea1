"""Legacy Vietnamese text encodings (TCVN3, VNI, Windows-1258, UTF-8) in shapefile DBFs."""
from __future__ import annotations

import random
import shutil
import struct
import subprocess
import unicodedata

import geopandas as gpd
import pytest
from shapely.geometry import box

from diagioi.geo.encoding import (
    LEGACY_ENCODINGS,
    RAW_READ_ENCODING,
    VIETNAMESE_LETTERS,
    decode_bytes,
    detect_dbf_encoding,
    encode_text,
    fix_legacy_text_columns,
    guess_encoding,
    read_dbf_text_columns,
)
from diagioi.geo.errors import EncodingError

# Names of real units (Bắc Kạn city and around) plus words that exercise the capitals with
# tone marks, which TCVN3 keeps outside its .VnTime core.
VIETNAMESE_NAMES = [
    "Đức Xuân", "Nguyễn Thị Minh Khai", "Huyền Tụng", "Xuất Hóa", "Phường Sông Cầu",
    "Thị trấn Chợ Mới", "Bắc Kạn", "Thái Nguyên", "Ủy ban", "Quảng", "Ước", "Ỷ La", "Ở", "Ỳ",
    "Phùng Chí Kiên", "Nông Thượng", "Dương Quang", "Việt Yên", "Hiệp Hòa", "Ngân Sơn",
]
LEGACY_8BIT = ("cp1258", "tcvn3", "vni")


# --- the character tables ---------------------------------------------------------------------

@pytest.mark.parametrize("encoding", LEGACY_ENCODINGS)
@pytest.mark.parametrize("name", VIETNAMESE_NAMES)
def test_name_round_trips_through_encoding(name, encoding):
    assert decode_bytes(encode_text(name, encoding), encoding) == name


@pytest.mark.parametrize("encoding", LEGACY_ENCODINGS)
def test_all_134_vietnamese_letters_round_trip(encoding):
    assert len(VIETNAMESE_LETTERS) == 134
    for letter in VIETNAMESE_LETTERS:
        assert decode_bytes(encode_text(letter, encoding), encoding) == letter, letter


@pytest.mark.parametrize(
    ("encoding", "text", "raw"),
    [
        # what "§øc Xu©n" really is: the Latin-1 reading of TCVN3 bytes
        ("tcvn3", "Đức Xuân", "§øc Xu©n".encode("latin-1")),
        ("tcvn3", "Uỷ ban nhân dân", "Uû ban nh©n d©n".encode("latin-1")),
        ("tcvn3", "Ủy ban", b"\x9ey ban"),
        ("tcvn3", "Ỳ", b"\x13"),
        ("vni", "Đức Xuân", "Ñöùc Xuaân".encode("latin-1")),
        ("vni", "Nguyễn Thị Minh Khai", "Nguyeãn Thò Minh Khai".encode("latin-1")),
        ("vni", "Bắc Kạn", "Baéc Kaïn".encode("latin-1")),
        ("vni", "Ỷ La", "YÛ La".encode("latin-1")),
        ("vni", "Ỵ", b"\xce"),
        ("cp1258", "Đức Xuân", b"\xd0\xfd\xecc Xu\xe2n"),
        ("cp1258", "Nguyễn", b"Nguy\xea\xden"),
        ("cp1258", "Hà", b"H\xe0"),
        ("utf-8", "Đức", "Đức".encode()),
    ],
)
def test_known_byte_sequences(encoding, text, raw):
    assert encode_text(text, encoding) == raw
    assert decode_bytes(raw, encoding) == text


def test_tcvn3_table_matches_glibc_tcvn5712_1():
    """Every byte decodes as glibc's TCVN5712-1 (the full VN1 table) does."""
    iconv = shutil.which("iconv")
    if iconv is None or b"TCVN5712-1" not in subprocess.run([iconv, "-l"], capture_output=True).stdout:
        pytest.skip("glibc iconv with TCVN5712-1 not available")
    mismatches = {}
    for byte in range(256):
        glibc = subprocess.run([iconv, "-f", "TCVN5712-1", "-t", "UTF-8"], input=bytes([byte]),
                               capture_output=True, check=True).stdout.decode("utf-8")
        ours = decode_bytes(bytes([byte]), "tcvn3")
        if ours != glibc:
            mismatches[hex(byte)] = (ours, glibc)
    assert mismatches == {}


def test_tcvn3_every_byte_round_trips():
    for byte in range(256):
        if 0xB0 <= byte <= 0xB4:  # bare tone marks: they combine with whatever precedes them
            continue
        raw = bytes([byte])
        assert encode_text(decode_bytes(raw, "tcvn3"), "tcvn3") == raw, hex(byte)


def test_decoded_text_is_nfc():
    decoded = decode_bytes(encode_text("Nguyễn", "cp1258"), "cp1258")
    assert decoded == "Nguyễn"
    assert len(decoded) == 6
    assert unicodedata.is_normalized("NFC", decoded)


@pytest.mark.parametrize("alias", ["TCVN3", "tcvn", "ABC", "TCVN5712-1"])
def test_encoding_aliases_are_accepted(alias):
    assert decode_bytes(b"\xa7\xf8c", alias) == "Đức"


def test_invalid_utf8_raises_encoding_error_with_offset_and_hint():
    with pytest.raises(EncodingError, match=r"not valid utf-8: byte 0xA7 at offset 0") as caught:
        decode_bytes(b"\xa7\xf8c Xu\xa9n", "utf-8")
    assert "--encoding tcvn3|vni|cp1258|utf-8" in caught.value.hint


def test_unknown_encoding_name_raises():
    with pytest.raises(EncodingError, match="Unknown text encoding 'koi8-r'"):
        decode_bytes(b"abc", "koi8-r")


def test_character_outside_tcvn3_raises():
    with pytest.raises(EncodingError, match=r"'©' \(U\+00A9\) at position 4 .* cannot be written in tcvn3"):
        encode_text("Năm © 2009", "tcvn3")


# --- guessing ---------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", LEGACY_ENCODINGS)
def test_guess_encoding_recognises_a_list_of_names(encoding):
    guessed, confidence = guess_encoding([encode_text(name, encoding) for name in VIETNAMESE_NAMES])
    assert guessed == encoding
    assert confidence >= 0.6


def test_guess_encoding_of_ascii_is_utf8_with_full_confidence():
    assert guess_encoding([b"Ha Noi", b"Bac Kan", b""]) == ("utf-8", 1.0)


def test_guess_encoding_of_random_bytes_has_low_confidence():
    rng = random.Random(20250701)
    samples = [bytes(rng.randrange(0x80, 256) for _ in range(12)) for _ in range(20)]
    _, confidence = guess_encoding(samples)
    assert confidence < 0.5


def test_guess_encoding_cannot_split_two_equally_plausible_readings():
    # TCVN3 "Huyền Tụng" also reads as the Windows-1258 "Huỷn Tông": two well-formed words each.
    raw = encode_text("Huyền Tụng", "tcvn3")
    assert decode_bytes(raw, "cp1258") == "Huỷn Tông"
    assert guess_encoding([raw])[1] == pytest.approx(0.0)


# --- shapefiles -------------------------------------------------------------------------------

def _write_shapefile(folder, names, encoding, *, cpg: str | None = None):
    """A shapefile with one square per name, its DBF text written as raw ``encoding`` bytes."""
    path = folder / f"units_{encoding}.shp"
    frame = gpd.GeoDataFrame(
        {
            "code": [f"{1840 + index:05d}" for index in range(len(names))],
            "ten": [encode_text(name, encoding).decode("latin-1") for name in names],
            "dan_so": [1000.0 * (index + 1) for index in range(len(names))],
        },
        geometry=[box(index, 0, index + 1, 1) for index in range(len(names))],
        crs="EPSG:4326",
    )
    frame.to_file(path, encoding=RAW_READ_ENCODING)
    path.with_suffix(".cpg").unlink()
    if cpg is not None:
        path.with_suffix(".cpg").write_text(cpg)
    return path


def _read_units(path):
    """What geo/io.py does: detect, then read directly or through the raw-byte path."""
    encoding = detect_dbf_encoding(path)
    if encoding == "utf-8":
        return encoding, gpd.read_file(path, encoding=encoding)
    raw = gpd.read_file(path, encoding=RAW_READ_ENCODING)
    return encoding, fix_legacy_text_columns(raw, path.with_suffix(".dbf"), encoding)


@pytest.mark.parametrize("encoding", LEGACY_ENCODINGS)
def test_shapefile_without_cpg_is_detected_and_decoded(tmp_path, encoding):
    path = _write_shapefile(tmp_path, VIETNAMESE_NAMES, encoding)

    detected, units = _read_units(path)

    assert detected == encoding
    assert units["ten"].tolist() == VIETNAMESE_NAMES
    assert units["code"].tolist()[:2] == ["01840", "01841"]
    assert units["dan_so"].sum() == pytest.approx(1000.0 * 20 * 21 / 2)


@pytest.mark.parametrize("encoding", LEGACY_8BIT)
def test_read_dbf_text_columns_decodes_legacy_bytes(tmp_path, encoding):
    path = _write_shapefile(tmp_path, VIETNAMESE_NAMES, encoding)

    columns = read_dbf_text_columns(path.with_suffix(".dbf"), encoding)

    assert set(columns) == {"code", "ten"}
    assert columns["ten"] == VIETNAMESE_NAMES


def test_latin1_reading_shows_the_tcvn3_mojibake(tmp_path):
    path = _write_shapefile(tmp_path, ["Đức Xuân"], "tcvn3")
    assert gpd.read_file(path, encoding=RAW_READ_ENCODING)["ten"].tolist() == ["§øc Xu©n"]


def test_cpg_saying_utf8_is_honoured(tmp_path):
    path = tmp_path / "units.shp"
    gpd.GeoDataFrame({"ten": ["Đức Xuân"]}, geometry=[box(0, 0, 1, 1)], crs="EPSG:4326").to_file(path)
    assert path.with_suffix(".cpg").read_text().strip().upper() == "UTF-8"
    assert detect_dbf_encoding(path) == "utf-8"
    assert gpd.read_file(path, encoding="utf-8")["ten"].tolist() == ["Đức Xuân"]


@pytest.mark.parametrize(("declared", "expected"), [("65001", "utf-8"), ("1258", "cp1258"),
                                                   ("ANSI 1258", "cp1258")])
def test_cpg_code_page_numbers_are_mapped(tmp_path, declared, expected):
    path = _write_shapefile(tmp_path, ["Ngân Sơn"], expected, cpg=declared)
    assert detect_dbf_encoding(path) == expected


def test_cpg_naming_a_western_code_page_falls_back_to_guessing(tmp_path):
    path = _write_shapefile(tmp_path, VIETNAMESE_NAMES, "tcvn3", cpg="1252")
    assert detect_dbf_encoding(path) == "tcvn3"


def test_cpg_contradicted_by_the_bytes_raises(tmp_path):
    path = _write_shapefile(tmp_path, VIETNAMESE_NAMES, "tcvn3", cpg="UTF-8")
    with pytest.raises(EncodingError, match=r"units_tcvn3\.cpg declares utf-8 but .* not utf-8") as caught:
        detect_dbf_encoding(path)
    assert "--encoding tcvn3|vni|cp1258|utf-8" in str(caught.value)


def test_garbage_text_raises_with_encoding_hint(tmp_path):
    rng = random.Random(7)
    garbage = [bytes(rng.randrange(0x80, 256) for _ in range(10)).decode("latin-1") for _ in range(20)]
    path = tmp_path / "garbage.shp"
    gpd.GeoDataFrame({"ten": garbage}, geometry=[box(0, 0, 1, 1)] * 20, crs="EPSG:4326").to_file(
        path, encoding=RAW_READ_ENCODING)
    path.with_suffix(".cpg").unlink()

    with pytest.raises(EncodingError, match="Cannot tell the text encoding of garbage.dbf") as caught:
        detect_dbf_encoding(path)

    assert caught.value.hint == "pass the encoding explicitly: --encoding tcvn3|vni|cp1258|utf-8"
    assert set(caught.value.context["scores"]) == set(LEGACY_ENCODINGS)
    # A Vietnamese reader gets it in Vietnamese (the code stays "encoding").
    assert caught.value.detail_in("vi").startswith("không nhận ra bảng mã chữ của garbage.dbf: tỉ lệ từ tiếng Việt")
    assert caught.value.hint_in("vi") == "ghi rõ bảng mã: --encoding tcvn3|vni|cp1258|utf-8"
    assert caught.value.code == "encoding"


def test_deleted_records_are_skipped_like_gdal_does(tmp_path):
    path = _write_shapefile(tmp_path, ["Đức Xuân", "Huyền Tụng", "Xuất Hóa"], "vni")
    dbf = path.with_suffix(".dbf")
    data = bytearray(dbf.read_bytes())
    _, header_length, record_length = struct.unpack_from("<IHH", data, 4)
    data[header_length + record_length] = ord("*")  # delete the second record
    dbf.write_bytes(bytes(data))

    raw = gpd.read_file(path, encoding=RAW_READ_ENCODING)
    fixed = fix_legacy_text_columns(raw, dbf, "vni")

    assert read_dbf_text_columns(dbf, "vni")["ten"] == ["Đức Xuân", "Xuất Hóa"]
    assert fixed["ten"].tolist() == ["Đức Xuân", "Xuất Hóa"]
    assert fixed["dan_so"].tolist() == [1000.0, 3000.0]


def test_fixing_a_filtered_frame_raises_instead_of_mislabelling(tmp_path):
    path = _write_shapefile(tmp_path, ["Đức Xuân", "Huyền Tụng", "Xuất Hóa"], "tcvn3")
    raw = gpd.read_file(path, encoding=RAW_READ_ENCODING)
    with pytest.raises(EncodingError, match="frame has 2 rows but the DBF has 3 records"):
        fix_legacy_text_columns(raw.iloc[1:], path.with_suffix(".dbf"), "tcvn3")
    shuffled = r"Row 0 of column 'code' does not match the DBF record \('01842' in the frame, '01840' in the file\)"
    with pytest.raises(EncodingError, match=shuffled):
        fix_legacy_text_columns(raw.iloc[::-1], path.with_suffix(".dbf"), "tcvn3")


def test_missing_dbf_raises(tmp_path):
    with pytest.raises(EncodingError, match=r"No \.dbf attribute file next to"):
        detect_dbf_encoding(tmp_path / "nothing.shp")


# --- real names -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_unit_names(shared_data):
    """The 661 commune names of Bắc Kạn, Thái Nguyên, Bắc Giang, Bắc Ninh (2009) and their districts."""
    frame = gpd.read_file(shared_data / "pre2025_communes_census2009_bk_tn_bg_bn.geojson")
    return frame["name"].dropna().tolist() + frame["district"].dropna().unique().tolist()


@pytest.mark.real_data
@pytest.mark.parametrize("encoding", LEGACY_ENCODINGS)
def test_real_names_are_recognised_in_each_encoding(real_unit_names, encoding):
    raw_names = [encode_text(name, encoding) for name in real_unit_names]

    guessed, confidence = guess_encoding(raw_names)

    assert len(real_unit_names) == 700
    assert guessed == encoding
    # the right reading makes every name well-formed; the best wrong one makes at most 26 % so
    assert confidence >= 0.74
    assert [decode_bytes(raw, encoding) for raw in raw_names] == real_unit_names
