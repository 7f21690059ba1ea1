"""The scenario contract: one typed description of a merger scenario (file, API body, browser save).

A scenario names new units, each made of whole existing units (by code) — or, for a boundary drawn
by hand, of a polygon — with a name, kind and optional region flags; it may name its parent
city/province with the scope of existing units it governs, scenario-wide region flags (``context``)
and flags per existing unit (``unit_flags``). The same pydantic models validate a file, a request
body and describe both in ``docs/contract/scenario.schema.json``.

``to_dict`` gives the canonical form (fixed key order, empty values left out) and
``Scenario.from_dict(s.to_dict()) == s``; a canonical file round-trips byte for byte.

Example (JSON)::

    {"name": "Bắc Kạn 2025", "regime": "R76",
     "parent": {"name": "Thành phố Bắc Kạn", "kind": "provincial_city",
                "scope": {"districts": ["Thành phố Bắc Kạn"]}},
     "context": {"mountainous": true},
     "new_units": [{"name": "Phường Đức Xuân", "kind": "ward", "members": ["01840", "01834"]}]}
"""
from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

import shapely
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema, field_validator, model_validator
from pydantic_core import PydanticCustomError

from ..errors import InputError, ScenarioError
from ..i18n import Message, translate, validation_problem_texts
from ..kinds import ParentKind, UnitKind
from ..standards import DEFAULT_REGIME

__all__ = ["DEFAULT_REGIME", "FLAG_NAMES", "NewUnit", "Parent", "RegionFlags", "Scenario", "Scope",
           "contract_error", "contract_problem", "describe_errors"]

# Region flags that pick a standard's variant, in canonical order (the names geo/standards.py uses).
FLAG_NAMES = ("mountainous", "border", "island", "central_city", "red_river_delta", "coastal_poor",
              "ethnic_minority_share")
# Keys a scenario body may carry that are not part of the scenario (store bookkeeping); ignored.
_BOOKKEEPING_KEYS = ("id", "version")


def contract_problem(message: str | Message, hint: str | Message, *,
                     conflict: bool = False) -> PydanticCustomError:
    """A validation problem that keeps its hint (and whether it is a scenario inconsistency).

    Catalogue messages also travel in the context as JSON (``{"code", "params"}``), so that
    :func:`describe_errors` words them in the reader's language; ``message``/``hint`` are the English text.
    """
    return PydanticCustomError("scenario_conflict" if conflict else "diagioi", "{message}",
                               {"message": translate(message, "en"), "hint": translate(hint, "en"),
                                "messages": {"message": _as_message(message).to_dict(),
                                             "hint": _as_message(hint).to_dict()}})


def _as_message(text: str | Message) -> Message:
    """A text that is not (yet) in the catalogue goes through as it is, in every language."""
    return text if isinstance(text, Message) else Message("text.as_is", {"text": text})


def _error_message(error: InputError) -> Message:
    return error.detail_message or _as_message(error.message)


def _error_hint(error: InputError) -> Message:
    return error.hint_message or _as_message(error.hint or "")


def _unit_code(value: Any) -> str:
    """A unit code is text with its leading zeros; an integer 1840 is read as "01840"."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:05d}"
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise contract_problem(Message("contract.not_a_code", {"value": repr(value)}), Message("hint.contract_code"))


def _codes(values: Any, *, what: str) -> Any:
    if not isinstance(values, (list, tuple)):
        return values  # the list type check says what is wrong
    codes: list[str] = []
    for value in values:
        code = _unit_code(value)
        if code in codes:
            raise contract_problem(Message("contract.listed_twice", {"code": code, "what": what}),
                                   Message("hint.contract_listed_twice"), conflict=True)
        codes.append(code)
    return codes


# Kinds are read with their aliases (phuong, xa, "Phường"…): the schema documents a string, not the enum.
_UnitKindIn = Annotated[UnitKind, WithJsonSchema({
    "type": "string", "examples": [k.value for k in UnitKind],
    "description": "ward|commune|township|special_zone (or phuong|xa|thi_tran|dac_khu, or the Vietnamese word)"})]
_ParentKindIn = Annotated[ParentKind, WithJsonSchema({
    "type": "string", "examples": [k.value for k in ParentKind],
    "description": "|".join(k.value for k in ParentKind) + " (or the Vietnamese name, e.g. 'Thành phố thuộc tỉnh')"})]


class _Contract(BaseModel):
    """Documented objects: immutable, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class RegionFlags(_Contract):
    """Region flags that choose a standard's variant (None: not set here, taken from elsewhere)."""

    mountainous: bool | None = Field(None, description="miền núi, vùng cao (mountainous/highland)")
    border: bool | None = Field(None, description="biên giới (has a land border)")
    island: bool | None = Field(None, description="hải đảo (island)")
    central_city: bool | None = Field(None, description="thuộc thành phố trực thuộc trung ương")
    red_river_delta: bool | None = Field(None, description="Đồng bằng sông Hồng (1211 Art. 3a area reduction)")
    coastal_poor: bool | None = Field(None, description="xã bãi ngang ven biển (poor coastal commune)")
    ethnic_minority_share: float | None = Field(None, ge=0.0, le=1.0,
                                                description="share of ethnic-minority people, 0..1")

    def flags_dict(self) -> dict[str, Any]:
        """The flags that are set, in canonical order."""
        return {name: getattr(self, name) for name in FLAG_NAMES if getattr(self, name) is not None}

    def to_dict(self) -> dict[str, Any]:
        return self.flags_dict()


class Scope(_Contract):
    """The existing units a parent governs: by province, by district (names) and/or by unit code."""

    provinces: tuple[str, ...] = Field((), description="province names (diacritics and prefixes optional)")
    districts: tuple[str, ...] = Field((), description="district names, e.g. 'Thành phố Bắc Kạn'")
    codes: tuple[str, ...] = Field((), description="unit codes (text, leading zeros kept)")

    @field_validator("provinces", "districts", mode="before")
    @classmethod
    def _names(cls, values: Any) -> Any:
        if isinstance(values, (list, tuple)):
            return [v.strip() if isinstance(v, str) else v for v in values]
        return values

    @field_validator("codes", mode="before")
    @classmethod
    def _scope_codes(cls, values: Any) -> Any:
        return _codes(values, what="the scope")

    def is_empty(self) -> bool:
        return not (self.provinces or self.districts or self.codes)

    def to_dict(self) -> dict[str, Any]:
        return {key: list(getattr(self, key)) for key in ("provinces", "districts", "codes") if getattr(self, key)}


class Parent(_Contract):
    """The city/province that the new units make up (checked against its own standards)."""

    name: str = Field("", description="e.g. 'Thành phố Bắc Kạn'")
    kind: _ParentKindIn = Field(description="kind of the parent")
    mountainous: bool = Field(False, description="older files: the parent is mountainous (prefer context)")
    scope: Scope | None = Field(None, description="the existing units the parent governs")

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: Any) -> Any:
        return "" if value is None else value

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, value: Any) -> ParentKind:
        try:
            return ParentKind.parse(value)
        except InputError as exc:
            raise contract_problem(_error_message(exc), _error_hint(exc)) from None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "kind": self.kind.value}
        if self.mountainous:
            data["mountainous"] = True
        if self.scope is not None and not self.scope.is_empty():
            data["scope"] = self.scope.to_dict()
        return data


class NewUnit(RegionFlags):
    """One proposed unit: a name, a kind, member unit codes (or a drawn geometry) and flags."""

    id: str = Field(description="new_unit_id; n1, n2… by position when absent")
    name: str = Field(min_length=1, description="e.g. 'Phường Đức Xuân'")
    kind: _UnitKindIn = Field(UnitKind.commune, description="kind of the new unit (commune when absent)")
    members: tuple[str, ...] = Field((), description="codes of the existing units it is made of")
    locked: bool = Field(False, description="the browser does not move units in or out")
    geometry: dict[str, Any] | None = Field(None, description="a boundary drawn by hand: GeoJSON Polygon or "
                                                              "MultiPolygon in lon/lat (EPSG:4326)",
                                            json_schema_extra={"properties": {
                                                "type": {"enum": ["Polygon", "MultiPolygon"]},
                                                "coordinates": {"type": "array"}},
                                                "required": ["type", "coordinates"]})
    note: str | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, value: Any) -> UnitKind:
        try:
            return UnitKind.parse("commune" if value is None else value)
        except InputError as exc:
            raise contract_problem(_error_message(exc), _error_hint(exc)) from None

    @field_validator("members", mode="before")
    @classmethod
    def _members(cls, values: Any) -> Any:
        return [] if values is None else _codes(values, what="members")

    @field_validator("geometry")
    @classmethod
    def _polygon(cls, geometry: dict | None) -> dict | None:
        if geometry is None:
            return None
        try:
            shape = shapely.geometry.shape(geometry)
        except Exception as exc:  # shapely raises several types for malformed GeoJSON
            raise contract_problem(Message("contract.geometry_invalid", {"reason": str(exc)}),
                                   Message("hint.contract_geometry")) from None
        if shape.geom_type not in ("Polygon", "MultiPolygon") or not shape.is_valid:
            reason = (shapely.is_valid_reason(shape) if shape.geom_type in ("Polygon", "MultiPolygon")
                      else shape.geom_type)
            raise contract_problem(Message("contract.boundary_invalid", {"reason": reason}),
                                   Message("hint.contract_boundary"))
        return geometry

    @property
    def is_drawn(self) -> bool:
        return self.geometry is not None

    def shape(self):
        return shapely.geometry.shape(self.geometry) if self.geometry else None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "name": self.name, "kind": self.kind.value,
                                "members": list(self.members)}
        if self.locked:
            data["locked"] = True
        data.update(self.flags_dict())
        if self.geometry is not None:
            data["geometry"] = self.geometry
        if self.note:
            data["note"] = self.note
        return data


class Scenario(_Contract):
    """A named set of new units under a legal regime, optionally with its parent, scope and flags."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "name": "Thành phố Bắc Kạn mở rộng", "regime": "R1211",
        "parent": {"name": "Thành phố Bắc Kạn", "kind": "provincial_city",
                   "scope": {"districts": ["Thành phố Bắc Kạn"]}},
        "context": {"mountainous": True},
        "new_units": [{"id": "n1", "name": "Phường Cẩm Giàng", "kind": "ward", "members": ["01960"]}],
    }]})

    name: str = Field(min_length=1, description="name of the scenario (phương án)")
    description: str | None = None
    regime: str = Field(DEFAULT_REGIME, description="standards regime: R76 (default) | R1211 | R112 | R35, or a "
                                                    "rules file (CLI only)")
    dataset: str | None = Field(None, description="content-hash version of the units dataset it was built on")
    parent: Parent | None = None
    context: RegionFlags = Field(default_factory=RegionFlags,
                                 description="region flags for the whole scenario (lowest precedence)")
    unit_flags: dict[str, RegionFlags] = Field(default_factory=dict,
                                               description="region flags per existing unit code")
    new_units: tuple[NewUnit, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        """Give new units without an id their position's id (n1, n2…); empty regime → default."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if data.get("regime") in (None, ""):
            data.pop("regime", None)
        for key in ("context", "unit_flags"):
            if data.get(key) is None:
                data.pop(key, None)
        raw_units = data.get("new_units")
        if raw_units is None:
            data.pop("new_units", None)
        elif isinstance(raw_units, list):
            data["new_units"] = [
                {**raw, "id": raw.get("id") or f"n{position}"} if isinstance(raw, dict) else raw
                for position, raw in enumerate(raw_units, start=1)]
        return data

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("unit_flags", mode="before")
    @classmethod
    def _flag_codes(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {_unit_code(code): flags for code, flags in value.items()}
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "Scenario":
        used_ids: set[str] = set()
        owner: dict[str, str] = {}
        for unit in self.new_units:
            if unit.id in used_ids:
                raise contract_problem(Message("contract.id_twice", {"id": repr(unit.id)}),
                                       Message("hint.contract_id_twice"), conflict=True)
            used_ids.add(unit.id)
            for code in unit.members:
                if code in owner:
                    raise contract_problem(Message("contract.member_twice", {"code": code, "first": repr(owner[code]),
                                                                             "second": repr(unit.id)}),
                                           Message("hint.contract_member_twice"), conflict=True)
                owner[code] = unit.id
        return self

    # ---- conversions -------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Any, *, source: str = "scenario") -> "Scenario":
        """Validate a scenario (file content or request body); errors name the new unit and field."""
        if isinstance(data, dict):
            data = {k: v for k, v in data.items() if k not in _BOOKKEEPING_KEYS}
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise contract_error(exc, data, source=source) from None

    def to_dict(self) -> dict[str, Any]:
        """The canonical form: fixed key order, empty values left out."""
        data: dict[str, Any] = {"name": self.name}
        if self.description:
            data["description"] = self.description
        data["regime"] = self.regime
        if self.dataset:
            data["dataset"] = self.dataset
        if self.parent is not None:
            data["parent"] = self.parent.to_dict()
        if self.context.flags_dict():
            data["context"] = self.context.to_dict()
        flags = {code: f.to_dict() for code, f in self.unit_flags.items() if f.flags_dict()}
        if flags:
            data["unit_flags"] = flags
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
        raise ScenarioError(Message("error.no_new_unit", {"id": repr(new_unit_id), "scenario": repr(self.name)}),
                            hint=Message("hint.one_of_ids", {"ids": ", ".join(u.id for u in self.new_units)}),
                            code="scenario")

    def member_codes(self) -> list[str]:
        return [code for unit in self.new_units for code in unit.members]

    def replace(self, **changes: Any) -> "Scenario":
        """A copy with some fields changed, validated like a new scenario."""
        data = {name: getattr(self, name) for name in type(self).model_fields}
        data.update(changes)
        return type(self).model_validate(data)

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
                raise ScenarioError(Message("error.no_new_unit_to_assign", {"id": repr(target), "code": code}),
                                    hint=Message("hint.create_new_unit", {"ids": ", ".join(sorted(ids)[:20])}),
                                    code="scenario")
            source = moved_to[code] if code in moved_to else current.get(code)
            if source == target:
                continue
            for moved_from_or_to in (source, target):
                if moved_from_or_to is not None and ids[moved_from_or_to].locked:
                    raise ScenarioError(Message("error.new_unit_locked", {"id": repr(moved_from_or_to), "code": code}),
                                        hint=Message("hint.unlock_first"), context={"unit_code": code},
                                        code="scenario")
            if source is not None:
                members.setdefault(source, list(self.new_unit(source).members)).remove(code)
                touched.add(source)
            if target is not None:
                members.setdefault(target, list(self.new_unit(target).members)).append(code)
                touched.add(target)
            moved_to[code] = target
        # Members move between units of one valid scenario: each code stays in at most one unit, so the
        # copies need no re-validation.
        new_units = tuple(u.model_copy(update={"members": tuple(members[u.id])}) if u.id in touched else u
                          for u in self.new_units)
        child = self.model_copy(update={"new_units": new_units})
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


# --------------------------------------------------------------------------- errors
_OBJECTS = {"scenario": Scenario, "new unit": NewUnit, "parent": Parent, "scope": Scope, "flags": RegionFlags}


def _locate(loc: tuple, data: Any, source: str | Message) -> tuple[Message, str | None, type[BaseModel]]:
    """(where, field, model) of an error location: 'plan.json: new unit #2 (Phường A)', 'kind', NewUnit."""
    where, model, field = _as_message(source) if isinstance(source, str) else source, Scenario, None
    rest = list(loc)
    if rest[:1] == ["new_units"] and len(rest) >= 2 and isinstance(rest[1], int):
        position = rest[1]
        raw = data.get("new_units")[position] if isinstance(data, dict) else None
        name = raw.get("name") if isinstance(raw, dict) else None
        if isinstance(name, str) and name.strip():
            where = Message("contract.where.new_unit_named", {"source": source, "position": str(position + 1),
                                                                "name": name.strip()})
        else:
            where = Message("contract.where.new_unit", {"source": source, "position": str(position + 1)})
        model, rest = NewUnit, rest[2:]
    elif rest[:1] == ["parent"]:
        where, model, rest = Message("contract.where.parent", {"source": source}), Parent, rest[1:]
        if rest[:1] == ["scope"]:
            where, model, rest = Message("contract.where.parent_scope", {"source": source}), Scope, rest[1:]
    elif rest[:1] == ["context"]:
        where, model, rest = Message("contract.where.context", {"source": source}), RegionFlags, rest[1:]
    elif rest[:1] == ["unit_flags"] and len(rest) >= 2:
        where, model, rest = (Message("contract.where.unit_flags", {"source": source, "code": str(rest[1])}),
                              RegionFlags, rest[2:])
    if rest:
        field = str(rest[0])
    return where, field, model


def _problem_messages(error: dict, data: Any, source: str | Message) -> tuple[Message, Message | None, str]:
    """(problem, hint, location) of one pydantic error of a scenario, as catalogue messages."""
    loc = tuple(error.get("loc", ()))
    where, field, model = _locate(loc, data, source)
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    messages = ctx.get("messages") or {}
    hint = Message.from_dict(messages["hint"]) if messages.get("hint") else (
        _as_message(ctx["hint"]) if ctx.get("hint") else None)
    if kind in ("diagioi", "scenario_conflict"):
        said = Message.from_dict(messages["message"]) if messages.get("message") else _as_message(ctx.get("message"))
        message = Message("contract.problem", {"where": where, "message": said}) \
            if field is None or field in ("members", "codes") \
            else Message("contract.problem_field", {"where": where, "field": field, "message": said})
    elif kind in ("model_type", "model_attributes_type") and not loc:
        message = Message("contract.not_an_object_root", {"source": source, "type": type(data).__name__})
        hint = _as_message('{"name": "...", "new_units": [...]}')
    elif kind == "model_type":
        message = Message("contract.not_an_object", {"where": where})
        hint = hint or Message("hint.contract_example",
                               {"example": '{"name": "Phường ...", "kind": "ward", "members": ["01840"]}'})
    elif kind == "missing":
        message = Message("contract.missing", {"where": where, "field": field})
        hint = Message("hint.contract_add", {"example": f'"{field}": ...'})
    elif kind == "string_too_short":
        message = Message("contract.empty", {"where": where, "field": field})
        hint = Message("hint.contract_add", {"example": f'"{field}": "..."'})
    elif kind == "extra_forbidden":
        message = Message("contract.unknown_key", {"where": where, "key": str(loc[-1])})
        hint = Message("hint.contract_allowed", {"keys": ", ".join(model.model_fields)})
    elif kind in ("list_type", "tuple_type"):
        message = Message("contract.not_a_list", {"where": where, "field": field})
        hint = hint or _as_message(f'"{field}": [...]')
    elif field:
        message = Message("contract.problem_field", {"where": where, "field": field,
                                                     "message": validation_problem_texts(error)})
    else:
        message = Message("contract.problem", {"where": where, "message": validation_problem_texts(error)})
    return message, hint, ".".join(str(p) for p in loc) or "scenario"


def _problem_of(error: dict, data: Any, source: str | Message, lang: str) -> dict[str, Any]:
    message, hint, location = _problem_messages(error, data, source)
    hint_text = translate(hint, lang) if hint is not None else ""
    return {"location": location, "problem": translate(message, lang),
            "hint": hint_text or translate("hint.contract_schema", lang),
            "conflict": error.get("type") == "scenario_conflict"}


def describe_errors(errors: list[dict], data: Any, *, source: str | Message = "scenario",
                    lang: str = "en") -> list[dict[str, Any]]:
    """Pydantic errors of a scenario as ``{"location", "problem", "hint", "conflict"}``, worded for a person
    in ``lang`` (English for logs and scenario files; the API asks for the reader's language)."""
    return [_problem_of(e, data, source, lang) for e in errors]


def contract_error(exc: ValidationError, data: Any, *, source: str = "scenario") -> InputError:
    """One InputError (ScenarioError for inconsistencies) that says which object and field to fix."""
    problems = describe_errors(exc.errors(), data, source=source)
    cls = ScenarioError if any(p["conflict"] for p in problems) else InputError
    message = "; ".join(p["problem"] for p in problems[:5]) + (f" (+{len(problems) - 5} more)"
                                                               if len(problems) > 5 else "")
    errors = [{"location": p["location"], "problem": p["problem"], "hint": p["hint"]} for p in problems]
    return cls(message, hint=problems[0]["hint"], context={"errors": errors})
