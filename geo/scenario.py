"""Merger scenarios: pure data that a person can write by hand (JSON or YAML).

A scenario names new units, each made of whole existing units (by code) — or, for a boundary
drawn by hand, of a polygon — with a name, kind and optional region flags. ``to_dict`` gives the
canonical form and ``from_dict(to_dict(s)) == s``; a canonical file round-trips byte for byte.

Example (JSON)::

    {"name": "Bắc Kạn 2025", "regime": "R76",
     "parent": {"name": "Thành phố Bắc Kạn", "kind": "provincial_city"},
     "new_units": [{"name": "Phường Đức Xuân", "kind": "ward", "members": ["01840", "01834"]}]}
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import shapely
import yaml

from .errors import InputError, ScenarioError
from .kinds import ParentKind, UnitKind

DEFAULT_REGIME = "R76"
_FLAGS = ("mountainous", "border", "island", "central_city", "red_river_delta")


@dataclass(frozen=True)
class Parent:
    """The city/province that the new units make up (checked against its own standards)."""

    name: str
    kind: ParentKind
    mountainous: bool = False

    def to_dict(self) -> dict:
        data = {"name": self.name, "kind": self.kind.value}
        if self.mountainous:
            data["mountainous"] = True
        return data


@dataclass(frozen=True)
class NewUnit:
    """One proposed unit: a name, a kind, member unit codes (or a drawn geometry) and flags."""

    id: str
    name: str
    kind: UnitKind
    members: tuple[str, ...] = ()
    locked: bool = False
    mountainous: bool | None = None
    border: bool | None = None
    island: bool | None = None
    central_city: bool | None = None
    red_river_delta: bool | None = None  # Đồng bằng sông Hồng: 1211 Art. 3a area reduction for rural units
    geometry: dict | None = None  # GeoJSON geometry of a boundary drawn by hand (EPSG:4326)
    note: str | None = None

    @property
    def is_drawn(self) -> bool:
        return self.geometry is not None

    def shape(self):
        return shapely.geometry.shape(self.geometry) if self.geometry else None

    def to_dict(self) -> dict:
        data: dict = {"id": self.id, "name": self.name, "kind": self.kind.value, "members": list(self.members)}
        if self.locked:
            data["locked"] = True
        for flag in _FLAGS:
            value = getattr(self, flag)
            if value is not None:
                data[flag] = value
        if self.geometry is not None:
            data["geometry"] = self.geometry
        if self.note:
            data["note"] = self.note
        return data


@dataclass(frozen=True)
class Scenario:
    """A named set of new units under a legal regime."""

    name: str
    new_units: tuple[NewUnit, ...]
    regime: str = DEFAULT_REGIME
    description: str | None = None
    parent: Parent | None = None
    context: dict = field(default_factory=dict)  # defaults for new-unit flags, e.g. {"mountainous": true}
    dataset: str | None = None  # content hash (UnitSet.version) of the units dataset it was built on

    # ---- conversions -------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: dict, *, source: str = "scenario") -> "Scenario":
        if not isinstance(data, dict):
            raise InputError(f"{source}: a scenario is a JSON object, got {type(data).__name__}",
                             hint='start from {"name": "...", "new_units": [...]}')
        unknown = set(data) - {"name", "new_units", "regime", "description", "parent", "context", "id", "version", "dataset"}
        if unknown:
            raise InputError(f"{source}: unknown key(s) {sorted(unknown)}",
                             hint="allowed: name, description, regime, dataset, parent, context, new_units")
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            raise InputError(f"{source}: the scenario needs a non-empty \"name\"", hint='add "name": "..."')
        raw_units = data.get("new_units", [])
        if not isinstance(raw_units, list):
            raise InputError(f"{source}: \"new_units\" must be a list", hint='"new_units": [{"name": ..., "members": [...]}]')
        new_units = []
        used_ids: set[str] = set()
        owner: dict[str, str] = {}
        for position, raw in enumerate(raw_units, start=1):
            new_unit = _new_unit_from_dict(raw, position, source)
            if new_unit.id in used_ids:
                raise ScenarioError(f"{source}: new unit id {new_unit.id!r} is used twice", hint="give each new unit its own id")
            used_ids.add(new_unit.id)
            for code in new_unit.members:
                if code in owner:
                    raise ScenarioError(
                        f"{source}: unit {code} is a member of both {owner[code]!r} and {new_unit.id!r}",
                        hint="a unit belongs to at most one new unit", context={"unit_code": code})
                owner[code] = new_unit.id
            new_units.append(new_unit)
        parent = None
        if data.get("parent") is not None:
            raw_parent = data["parent"]
            if not isinstance(raw_parent, dict) or "kind" not in raw_parent:
                raise InputError(f"{source}: \"parent\" needs a kind", hint='e.g. {"name": "TP Bắc Kạn", "kind": "provincial_city"}')
            parent = Parent(str(raw_parent.get("name") or ""), ParentKind.parse(raw_parent["kind"]),
                            bool(raw_parent.get("mountainous", False)))
        context = data.get("context") or {}
        if not isinstance(context, dict):
            raise InputError(f"{source}: \"context\" must be an object", hint='e.g. {"mountainous": true}')
        dataset = data.get("dataset")
        if dataset is not None and (not isinstance(dataset, str) or not dataset.strip()):
            raise InputError(f"{source}: \"dataset\" must be the version (content hash) of a units dataset",
                             hint="leave it out, or copy it from GET /api/datasets", context={"dataset": dataset})
        return cls(name=name.strip(), new_units=tuple(new_units), regime=str(data.get("regime") or DEFAULT_REGIME),
                   description=data.get("description"), parent=parent, context=dict(context),
                   dataset=dataset.strip() if dataset else None)

    def to_dict(self) -> dict:
        data: dict = {"name": self.name}
        if self.description:
            data["description"] = self.description
        data["regime"] = self.regime
        if self.dataset:
            data["dataset"] = self.dataset
        if self.parent is not None:
            data["parent"] = self.parent.to_dict()
        if self.context:
            data["context"] = dict(self.context)
        data["new_units"] = [u.to_dict() for u in self.new_units]
        return data

    @classmethod
    def read(cls, path: str | Path) -> "Scenario":
        """Read a scenario from a .json, .yaml or .yml file."""
        path = Path(path)
        if not path.exists():
            raise InputError(f"scenario file not found: {path}", hint="check the path")
        text = path.read_text(encoding="utf-8")
        try:
            data = yaml.safe_load(text) if path.suffix.lower() in (".yaml", ".yml") else json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path.name}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
                             hint="fix the JSON syntax", context={"file": str(path)}) from exc
        except yaml.YAMLError as exc:
            raise InputError(f"{path.name}: malformed YAML: {exc}", hint="fix the YAML syntax",
                             context={"file": str(path)}) from exc
        return cls.from_dict(data, source=path.name)

    def write(self, path: str | Path) -> None:
        """Write the canonical form (JSON, or YAML for .yaml/.yml), UTF-8, keys in a fixed order."""
        path = Path(path)
        if path.suffix.lower() in (".yaml", ".yml"):
            text = yaml.safe_dump(self.to_dict(), allow_unicode=True, sort_keys=False)
        else:
            text = json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n"
        path.write_text(text, encoding="utf-8")

    # ---- queries and edits -------------------------------------------------------------
    def assignment(self) -> dict[str, str]:
        """unit code → new unit id (GerryChain-style node → part map)."""
        return dict(self._owner)

    @cached_property
    def _owner(self) -> dict[str, str]:
        return {code: unit.id for unit in self.new_units for code in unit.members}

    @cached_property
    def _by_id(self) -> dict[str, NewUnit]:
        return {unit.id: unit for unit in self.new_units}

    def new_unit(self, new_unit_id: str) -> NewUnit:
        if new_unit_id in self._by_id:
            return self._by_id[new_unit_id]
        raise ScenarioError(f"no new unit {new_unit_id!r} in scenario {self.name!r}",
                            hint="use one of: " + ", ".join(u.id for u in self.new_units))

    def member_codes(self) -> list[str]:
        return [code for unit in self.new_units for code in unit.members]

    def with_assignments(self, assignments: dict[str, str | None]) -> tuple["Scenario", set[str]]:
        """Move units between new units (``None`` takes a unit out); returns the touched new-unit ids."""
        current = self._owner
        moved_to: dict[str, str | None] = {}
        ids = self._by_id
        touched: set[str] = set()
        members: dict[str, list[str]] = {}
        for code, target in assignments.items():
            code = str(code)
            if target is not None and target not in ids:
                raise ScenarioError(f"no new unit {target!r} to assign {code} to",
                                    hint="create the new unit first; ids: " + ", ".join(sorted(ids)[:20]))
            source = moved_to[code] if code in moved_to else current.get(code)
            if source == target:
                continue
            for moved_from_or_to in (source, target):
                if moved_from_or_to is not None and ids[moved_from_or_to].locked:
                    raise ScenarioError(f"new unit {moved_from_or_to!r} is locked; unit {code} cannot move",
                                        hint="unlock it first", context={"unit_code": code})
            if source is not None:
                members.setdefault(source, list(self.new_unit(source).members)).remove(code)
                touched.add(source)
            if target is not None:
                members.setdefault(target, list(self.new_unit(target).members)).append(code)
                touched.add(target)
            moved_to[code] = target
        new_units = tuple(replace(u, members=tuple(members[u.id])) if u.id in touched else u for u in self.new_units)
        child = replace(self, new_units=new_units)
        # Hand the child its lookups updated in place of rebuilding them: O(changes), not O(units).
        owner = dict(current)
        for code, target in moved_to.items():
            if target is None:
                owner.pop(code, None)
            else:
                owner[code] = target
        by_id = dict(ids)
        for unit in new_units:
            if unit.id in touched:
                by_id[unit.id] = unit
        child.__dict__["_owner"] = owner
        child.__dict__["_by_id"] = by_id
        return child, touched


def _new_unit_from_dict(raw, position: int, source: str) -> NewUnit:
    where = f"{source}: new unit #{position}"
    if not isinstance(raw, dict):
        raise InputError(f"{where} must be an object", hint='{"name": "...", "kind": "ward", "members": ["01840"]}')
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"{where} needs a \"name\"", hint='add "name": "Phường ..."')
    kind = UnitKind.parse(raw.get("kind", "commune"))
    members = raw.get("members", [])
    if not isinstance(members, list):
        raise InputError(f"{where} ({name}): \"members\" must be a list of unit codes", hint='"members": ["01840", "01834"]')
    codes = []
    for member in members:
        if isinstance(member, int):
            member = f"{member:05d}"
        if not isinstance(member, str) or not member.strip():
            raise InputError(f"{where} ({name}): member {member!r} is not a unit code",
                             hint="write codes as text with leading zeros, e.g. \"01840\"")
        if member in codes:
            raise ScenarioError(f"{where} ({name}): unit {member} is listed twice", hint="list each unit once")
        codes.append(member.strip())
    geometry = raw.get("geometry")
    if geometry is not None:
        try:
            shape = shapely.geometry.shape(geometry)
        except Exception as exc:  # shapely raises several types for malformed GeoJSON
            raise InputError(f"{where} ({name}): geometry is not valid GeoJSON ({exc})",
                             hint="give a GeoJSON Polygon in lon/lat") from exc
        if shape.geom_type not in ("Polygon", "MultiPolygon") or not shape.is_valid:
            reason = shapely.is_valid_reason(shape) if shape.geom_type in ("Polygon", "MultiPolygon") else shape.geom_type
            raise InputError(f"{where} ({name}): drawn boundary must be a valid Polygon ({reason})",
                             hint="redraw the boundary without self-intersections")
    flags = {}
    for flag in _FLAGS:
        value = raw.get(flag)
        flags[flag] = None if value is None else bool(value)
    return NewUnit(
        id=str(raw.get("id") or f"n{position}"), name=name.strip(), kind=kind, members=tuple(codes),
        locked=bool(raw.get("locked", False)), geometry=geometry, note=raw.get("note"), **flags,
    )
