"""Closed sets of the domain: kinds of commune-level units and of their parents."""
from __future__ import annotations

from enum import StrEnum

from .errors import InputError
from .i18n import Message, catalogue


class UnitKind(StrEnum):
    """Kind of a commune-level unit (đơn vị hành chính cấp xã)."""

    ward = "ward"                  # phường
    commune = "commune"            # xã
    township = "township"          # thị trấn (abolished 2025 with the districts)
    special_zone = "special_zone"  # đặc khu

    @property
    def label_vi(self) -> str:
        """"Phường", "Xã"… from the language catalogue (``kind.<value>``)."""
        return catalogue("vi")[f"kind.{self.value}"]

    @classmethod
    def parse(cls, value: object) -> "UnitKind":
        """Accept English names, ASCII Vietnamese (phuong/xa/thi_tran/dac_khu) and Vietnamese words."""
        if isinstance(value, UnitKind):
            return value
        key = _normalise(str(value))
        try:
            return _ALIASES[key]
        except KeyError:
            raise InputError(
                Message("error.unknown_unit_kind", {"kind": repr(value)}),
                hint=Message("hint.unit_kinds", {"kinds": "ward|commune|township|special_zone",
                                                 "aliases": "phuong|xa|thi_tran|dac_khu"}),
                code="input",
            ) from None


class Status(StrEnum):
    """Outcome of a standard, a new unit or a parent — the one status vocabulary of every output.

    ``unknown`` means a figure is missing (shown as *thiếu số liệu*), never a failure.
    """

    PASS = "pass"
    FAIL = "fail"
    EXEMPT = "exempt"
    UNKNOWN = "unknown"


class ParentKind(StrEnum):
    """Kind of the unit that the new commune-level units make up (for parent standards)."""

    province = "province"
    central_city = "central_city"            # thành phố trực thuộc trung ương
    provincial_city = "provincial_city"      # thành phố thuộc tỉnh
    city_of_central_city = "city_of_central_city"
    town = "town"                            # thị xã
    district = "district"                    # huyện
    urban_district = "urban_district"        # quận

    @property
    def label_vi(self) -> str:
        """"Tỉnh", "Thành phố thuộc tỉnh"… from the language catalogue (``parent_kind.<value>``)."""
        return catalogue("vi")[f"parent_kind.{self.value}"]

    @classmethod
    def parse(cls, value: object) -> "ParentKind":
        key = _normalise(str(value))
        for kind in cls:
            if key in (kind.value, _normalise(kind.label_vi)):
                return kind
        aliases = {"tinh": cls.province, "thanh_pho_thuoc_tinh": cls.provincial_city, "thi_xa": cls.town,
                   "huyen": cls.district, "quan": cls.urban_district, "thanh_pho_truc_thuoc_trung_uong": cls.central_city}
        if key in aliases:
            return aliases[key]
        raise InputError(Message("error.unknown_parent_kind", {"kind": repr(value)}),
                         hint=Message("hint.one_of", {"values": "|".join(k.value for k in cls)}), code="input")


def _normalise(text: str) -> str:
    from .text import fold

    return fold(text).replace(" ", "_").replace("-", "_")


_ALIASES: dict[str, UnitKind] = {}
for _kind, _names in {
    UnitKind.ward: ["ward", "phuong", "p"],
    UnitKind.commune: ["commune", "xa", "x"],
    UnitKind.township: ["township", "thi_tran", "tt"],
    UnitKind.special_zone: ["special_zone", "dac_khu"],
}.items():
    for _name in _names:
        _ALIASES[_name] = _kind
