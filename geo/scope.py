"""The scope of a scenario's parent: which existing units the city/province governs today.

A scope names provinces, districts and/or unit codes::

    {"districts": ["Thành phố Bắc Kạn"]}
    {"provinces": ["Bắc Kạn"], "codes": ["02008"]}

Names are matched without diacritics, case or the administrative prefix ("TP. Bắc Kạn",
"thanh pho bac kan", "Bắc Kạn" and "Thành Phố Bắc Kạn" are one district). A name that matches
nothing is refused with the nearest names as a hint; a name that matches several districts of
different provinces is refused unless a province narrows it down.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from .errors import ScenarioError
from .i18n import Message
from .text import fold

# Administrative prefixes of province/district names, folded (longest first so "thanh pho" beats "tp").
_PREFIXES = (
    "thanh pho truc thuoc trung uong", "thanh pho", "thi xa", "thi tran", "huyen", "quan", "tinh",
    "tp.", "tp", "tx.", "tx", "h.", "q.", "t.",
)
SCOPE_KEYS = ("provinces", "districts", "codes")


def strip_admin_prefix(name: str) -> str:
    """Folded name without its administrative prefix: "TP. Bắc Kạn" → "bac kan"."""
    key = fold(name)
    key = re.sub(r"\s*\.\s*", ". ", key).strip()
    for prefix in _PREFIXES:
        if key == prefix:
            return key
        if key.startswith(prefix + " ") or (prefix.endswith(".") and key.startswith(prefix)):
            key = key[len(prefix):].strip()
            break
    return " ".join(key.replace(".", " ").split())


@dataclass(frozen=True)
class Scope:
    """The existing units a parent governs, in the order of the units layer."""

    codes: tuple[str, ...]
    provinces: tuple[str, ...] = ()
    districts: tuple[str, ...] = ()
    listed_codes: tuple[str, ...] = ()

    members: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "members", frozenset(self.codes))

    def __contains__(self, code: str) -> bool:
        return code in self.members

    def __len__(self) -> int:
        return len(self.codes)

    def to_dict(self) -> dict:
        """Which names matched which layer names, and the resolved codes."""
        return {"provinces": list(self.provinces), "districts": list(self.districts),
                "codes": list(self.listed_codes), "unit_codes": list(self.codes), "n_units": len(self.codes)}


def validate_scope(raw, *, source: str = "scenario") -> dict:
    """Check the shape of a scope object; returns ``{"provinces": [...], "districts": [...], "codes": [...]}``."""
    if not isinstance(raw, dict):
        raise ScenarioError(Message("error.scope_not_object", {"source": source}), hint=Message("hint.scope_example"),
                            code="scenario")
    unknown = sorted(set(raw) - set(SCOPE_KEYS))
    if unknown:
        raise ScenarioError(Message("error.scope_unknown_keys", {"source": source, "keys": str(unknown)}),
                            hint=Message("hint.scope_keys"), code="scenario")
    clean: dict[str, list[str]] = {}
    for key in SCOPE_KEYS:
        values = raw.get(key) or []
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list) or not all(isinstance(v, (str, int)) and str(v).strip() for v in values):
            raise ScenarioError(Message("error.scope_not_list", {"source": source, "key": key}),
                                hint=Message("hint.scope_list", {"key": key}), code="scenario")
        if key == "codes":
            values = [f"{v:05d}" if isinstance(v, int) else str(v).strip() for v in values]
        else:
            values = [str(v).strip() for v in values]
        if values:
            clean[key] = list(dict.fromkeys(values))
    return clean


def resolve_scope(units, raw: dict | None, *, source: str = "scenario") -> Scope | None:
    """Resolve a scope against a unit set (:class:`geo.units.UnitSet`); ``None`` when there is no scope.

    Units of the listed provinces, of the listed districts (within the listed provinces when both
    are given) and the listed codes, in the layer's order.
    """
    if not raw:
        return None
    spec = validate_scope(raw, source=source)
    if not spec:
        return None
    gdf = units.gdf
    province_keys = gdf["province"].map(lambda v: strip_admin_prefix(v) if isinstance(v, str) else None)
    district_keys = gdf["district"].map(lambda v: strip_admin_prefix(v) if isinstance(v, str) else None)
    selected = set()
    provinces = spec.get("provinces", [])
    in_provinces = None
    if provinces:
        wanted = {}
        for name in provinces:
            key = strip_admin_prefix(name)
            if not (province_keys == key).any():
                raise ScenarioError(Message("error.scope_no_province", {"source": source, "name": repr(name)}),
                                    hint=_nearest(key, province_keys, gdf["province"], "provinces"),
                                    context={"province": name}, code="scenario")
            wanted[key] = name
        in_provinces = province_keys.isin(list(wanted))
    districts = spec.get("districts", [])
    for name in districts:
        key = strip_admin_prefix(name)
        exact = gdf["district"].map(lambda v: fold(v) if isinstance(v, str) else None) == fold(name)
        # "Thành phố Sông Công" picks that district even when "Thị xã Sông Công" is also in the layer.
        mask = exact if exact.any() and fold(name) != key else district_keys == key
        if in_provinces is not None:
            mask &= in_provinces
        if not mask.any():
            raise ScenarioError(Message("error.scope_no_district_in_provinces" if provinces else "error.scope_no_district",
                                        {"source": source, "name": repr(name)}),
                                hint=_nearest(key, district_keys, gdf["district"], "districts"),
                                context={"district": name}, code="scenario")
        owning = sorted({p for p in gdf.loc[mask, "province"] if isinstance(p, str)})
        if len(owning) > 1:
            raise ScenarioError(Message("error.scope_district_ambiguous",
                                        {"source": source, "name": repr(name), "provinces": ", ".join(owning)}),
                                hint=Message("hint.scope_district_ambiguous"),
                                context={"district": name, "provinces": owning}, code="scenario")
        selected.update(gdf.index[mask])
    if provinces and not districts:
        selected.update(gdf.index[in_provinces])
    listed = spec.get("codes", [])
    if listed:
        units.require_codes(listed)
        selected.update(listed)
    codes = tuple(c for c in gdf.index if c in selected)
    return Scope(codes=codes, provinces=tuple(provinces), districts=tuple(districts), listed_codes=tuple(listed))


def _nearest(key: str, keys, names, what: str) -> Message:
    by_key = {}
    for k, n in zip(keys, names):
        if k and k not in by_key:
            by_key[k] = n
    close = difflib.get_close_matches(key, list(by_key), n=3, cutoff=0.5)
    if close:
        return Message("hint.scope_did_you_mean", {"names": " / ".join(repr(by_key[k]) for k in close)})
    return Message(f"hint.scope_layer_{what}", {"names": ", ".join(sorted(by_key.values())[:12])})
