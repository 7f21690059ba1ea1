"""Vietnamese-looking names for the sample units (made up; NFC)."""
from __future__ import annotations

import unicodedata

import numpy as np

from diagioi.geo.errors import InputError

_SINO_SYLLABLES = (
    "An", "Bình", "Hòa", "Phú", "Tân", "Thịnh", "Hưng", "Long", "Phúc", "Lộc", "Thọ", "Khang",
    "Ninh", "Yên", "Quang", "Minh", "Đức", "Thành", "Trung", "Nghĩa", "Hợp", "Tiến", "Đồng",
    "Xuân", "Thanh", "Vĩnh", "Mỹ", "Hải", "Sơn", "Lâm", "Hà", "Cao", "Kim", "Ngọc", "Hồng",
    "Quế", "Lạc", "Thái", "Hiệp", "Định", "Thuận", "Lợi", "Gia", "Phong", "Hương", "Vân",
    "Tường", "Kiên", "Cường", "Thắng", "Thạch", "Hoàng", "Bảo", "Châu", "Liên", "Tú", "Dương",
    "Nhân", "Lương", "Đoàn", "Khánh", "Tâm", "Chính", "Quý", "Hiển", "Tự", "Hoa", "Nguyên",
)
_UPLAND_FIRST = ("Nà", "Bản", "Khuổi", "Cốc", "Pác", "Bó", "Lủng", "Phja", "Nặm", "Thẩm", "Khau",
                 "Lũng", "Slam", "Tả", "Pò")
_UPLAND_SECOND = ("Phặc", "Tông", "Đán", "Mạ", "Lồm", "Pài", "Hin", "Sla", "Cáp", "Bưa", "Khiếu",
                  "Nưa", "Lẩu", "Mò", "Vàng", "Chang", "Hán", "Lạn", "Quang", "Tà")
_QUALIFIERS = ("Thượng", "Hạ", "Đông", "Tây", "Nam", "Bắc", "Trung", "Tiến", "Mới")


class _NameMaker:
    """Hands out unique, plausible names: shuffled two-syllable pairs first, then the same pairs
    with a qualifier (Thượng, Hạ, Đông...) as real names have once the plain pairs run out."""

    def __init__(self, rng: np.random.Generator):
        self._pools = {}
        for upland, (firsts, seconds) in ((False, (_SINO_SYLLABLES, _SINO_SYLLABLES)),
                                          (True, (_UPLAND_FIRST, _UPLAND_SECOND))):
            pairs = [f"{a} {b}" for a in firsts for b in seconds if a != b]
            plain = [pairs[i] for i in rng.permutation(len(pairs))]
            qualified = [f"{pair} {q}" for pair in pairs for q in _QUALIFIERS]
            qualified = [qualified[i] for i in rng.permutation(len(qualified))]
            self._pools[upland] = iter(unicodedata.normalize("NFC", name) for name in plain + qualified)
        self._taken: set[str] = set()

    def draw(self, upland: bool = False) -> str:
        for pool in (self._pools[upland], self._pools[False]):
            for name in pool:
                if name not in self._taken:
                    self._taken.add(name)
                    return name
        raise InputError("the sample name lists are exhausted", hint="generate fewer than ~40,000 units")
