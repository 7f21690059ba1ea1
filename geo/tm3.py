"""The official VN-2000 TM-3 zone (central meridian) of each province.

Source: Circular 973/2001/TT-TCĐC of the General Department of Land Administration (20 June 2001),
"hướng dẫn áp dụng Hệ quy chiếu và Hệ tọa độ quốc gia VN-2000", appendix: central meridian of the
3° TM zone (k = 0.9999) for each of the provinces and centrally-run cities as they were before the
2025 arrangement (Hà Tây merged into Hà Nội in 2008 with Hà Nội's 105°00'). A copy of the table is
published e.g. at https://rtk.com.vn/tin-tuc/kinh-tuyen-truc-he-toa-do-dia-phuong-vn2000.html.

The 34 provinces formed on 2025-07-01 (Resolution 202/2025/QH15) have not had new meridians
published that we could find: a unit of a merged province is measured in the zone of the former
province whose meridian is nearest to the unit (every candidate is one of its predecessors'
official zones), and says so in ``plane_crs_basis``. When the layer still has districts (a
pre-2025 layer), the province name is read as the former province.
"""
from __future__ import annotations

from .text import fold

SOURCE = "Thông tư 973/2001/TT-TCĐC, phụ lục kinh tuyến trục VN-2000 theo tỉnh"

# Province (folded, without "tỉnh"/"thành phố") → central meridian in degrees, as in the circular.
PROVINCE_MERIDIANS_973: dict[str, float] = {
    "lai chau": 103.0, "dien bien": 103.0, "son la": 104.0, "lao cai": 104.75, "yen bai": 104.75,
    "ha giang": 105.5, "tuyen quang": 106.0, "phu tho": 104.75, "vinh phuc": 105.0, "cao bang": 105.75,
    "lang son": 107.25, "bac kan": 106.5, "thai nguyen": 106.5, "bac giang": 107.0, "bac ninh": 105.5,
    "quang ninh": 107.75, "hai phong": 105.75, "hai duong": 105.5, "hung yen": 105.5, "ha noi": 105.0,
    "hoa binh": 106.0, "ha nam": 105.0, "nam dinh": 105.5, "thai binh": 105.5, "ninh binh": 105.0,
    "thanh hoa": 105.0, "nghe an": 104.75, "ha tinh": 105.5, "quang binh": 106.0, "quang tri": 106.25,
    "thua thien hue": 107.0, "hue": 107.0, "da nang": 107.75, "quang nam": 107.75, "quang ngai": 108.0,
    "binh dinh": 108.25, "kon tum": 107.5, "gia lai": 108.5, "dak lak": 108.5, "dak nong": 108.5,
    "phu yen": 108.5, "khanh hoa": 108.25, "ninh thuan": 108.25, "binh thuan": 108.5, "lam dong": 107.75,
    "binh duong": 105.75, "binh phuoc": 106.25, "dong nai": 107.75, "ba ria vung tau": 107.75,
    "tay ninh": 105.5, "long an": 105.75, "tien giang": 105.75, "ben tre": 105.75, "dong thap": 105.0,
    "vinh long": 105.5, "tra vinh": 105.5, "can tho": 105.0, "hau giang": 105.0, "soc trang": 105.5,
    "an giang": 104.75, "kien giang": 104.5, "bac lieu": 105.0, "ca mau": 104.5, "ho chi minh": 105.75,
}

# The 2025 provinces that took in other provinces (Resolution 202/2025/QH15): name → predecessors.
# Provinces kept unchanged in 2025 are found in the table above under their own name.
PREDECESSORS_2025: dict[str, tuple[str, ...]] = {
    "tuyen quang": ("tuyen quang", "ha giang"), "lao cai": ("lao cai", "yen bai"),
    "thai nguyen": ("thai nguyen", "bac kan"), "phu tho": ("phu tho", "vinh phuc", "hoa binh"),
    "bac ninh": ("bac ninh", "bac giang"), "hung yen": ("hung yen", "thai binh"),
    "hai phong": ("hai phong", "hai duong"), "ninh binh": ("ninh binh", "ha nam", "nam dinh"),
    "quang tri": ("quang tri", "quang binh"), "da nang": ("da nang", "quang nam"),
    "quang ngai": ("quang ngai", "kon tum"), "gia lai": ("gia lai", "binh dinh"),
    "khanh hoa": ("khanh hoa", "ninh thuan"), "lam dong": ("lam dong", "dak nong", "binh thuan"),
    "dak lak": ("dak lak", "phu yen"), "ho chi minh": ("ho chi minh", "binh duong", "ba ria vung tau"),
    "dong nai": ("dong nai", "binh phuoc"), "tay ninh": ("tay ninh", "long an"),
    "can tho": ("can tho", "soc trang", "hau giang"), "vinh long": ("vinh long", "ben tre", "tra vinh"),
    "dong thap": ("dong thap", "tien giang"), "ca mau": ("ca mau", "bac lieu"),
    "an giang": ("an giang", "kien giang"),
}

_PREFIXES = ("thanh pho truc thuoc trung uong ", "thanh pho ", "tinh ", "tp ", "tp. ")


def province_key(province: str | None) -> str | None:
    """"Tỉnh Bắc Kạn" → "bac kan"; "TP. Hồ Chí Minh" → "ho chi minh"; "Bà Rịa - Vũng Tàu" → "ba ria vung tau"."""
    if not province:
        return None
    key = fold(str(province)).replace("-", " ").replace("–", " ").replace(".", ". ")
    key = " ".join(key.split())
    for prefix in _PREFIXES:
        if key.startswith(prefix):
            key = key[len(prefix):]
            break
    key = key.replace("tp. ", "").strip()
    return key or None


def zone_for(province: str | None, *, lon: float | None, post_2025: bool) -> tuple[float | None, str]:
    """Central meridian for a unit and how it was chosen (``plane_crs_basis``, in Vietnamese).

    ``post_2025``: the layer has no districts, so the province names are those of 2025.
    """
    key = province_key(province)
    if key and post_2025 and key in PREDECESSORS_2025:
        meridians = sorted({PROVINCE_MERIDIANS_973[p] for p in PREDECESSORS_2025[key]})
        if len(meridians) == 1:
            return meridians[0], f"{SOURCE} (các tỉnh hợp thành {province} cùng kinh tuyến)"
        if lon is not None:
            meridian = min(meridians, key=lambda m: abs(m - lon))
            return meridian, (f"{province} (2025) chưa có kinh tuyến công bố: kinh tuyến của tỉnh cũ "
                              f"gần nhất với đơn vị ({_dms(meridian)}, {SOURCE})")
        return None, f"{province} (2025) hợp thành từ các tỉnh có kinh tuyến khác nhau"
    if key and key in PROVINCE_MERIDIANS_973:
        return PROVINCE_MERIDIANS_973[key], SOURCE
    return None, f"không có tỉnh {province!r} trong bảng kinh tuyến trục ({SOURCE})"


def _dms(meridian: float) -> str:
    degrees = int(meridian)
    return f"{degrees}°{round((meridian - degrees) * 60):02d}'"
