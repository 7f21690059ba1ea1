"""Suggested plans (gợi ý phương án): ``POST /api/scenarios/suggest`` — thin, the work is in geo.suggest."""
from __future__ import annotations

import asyncio
from typing import Any, Literal

import anyio
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from diagioi.geo.contract import contract_problem
from diagioi.geo.i18n import Message

from ..deps import ServiceDep, WriterDep
from ..errors import ServerBusyError, responses
from ..schemas import builtin_regime
from ..workers import submit_suggest
from .analysis import _slots as analysis_slots

router = APIRouter(prefix="/api/scenarios", tags=["scenarios"])

MAX_TIME_S = 30.0   # a request may not hold the server's CPU longer than this


class SuggestScope(BaseModel):
    model_config = ConfigDict(extra="forbid")
    provinces: list[str] = Field(default_factory=list, max_length=10)
    districts: list[str] = Field(default_factory=list, max_length=50)
    codes: list[str] = Field(default_factory=list, max_length=5000)


class SuggestParent(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field("", max_length=200)
    kind: str = Field(description="province | provincial_city | … (see the scenario contract)")
    mountainous: bool = False


class SuggestRequest(BaseModel):
    """What to suggest: a scope, a target (units or reduction %) and the rules; or ``mode=parent_targets``."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"scope": {"provinces": ["Bắc Kạn"]}, "target_units": 40, "regime": "R76", "alternatives": 2, "seed": 0},
        {"mode": "parent_targets", "scope": {"districts": ["Thành phố Bắc Kạn"]}, "regime": "R1211",
         "parent": {"name": "Thành phố Bắc Kạn", "kind": "provincial_city"}}]})
    mode: Literal["plans", "parent_targets"] = "plans"
    scope: SuggestScope
    target_units: int | None = Field(None, ge=1, le=20000)
    target_reduction: float | None = Field(None, ge=0, lt=100, description="reduction of the number of units, %")
    regime: str = Field("R76", description="R76 | R1211 | R112")
    context: dict[str, Any] = Field(default_factory=dict, description="region flags for the whole scope")
    unit_flags: dict[str, dict[str, Any]] = Field(default_factory=dict, max_length=20000)
    locks: list[str] = Field(default_factory=list, max_length=5000, description="units kept as they are, alone")
    keep_districts: bool = False
    alternatives: int = Field(1, ge=1, le=5)
    seed: int = Field(0, ge=0, le=2**31)
    kind_rule: Literal["all", "any", "majority"] = "all"
    parent: SuggestParent | None = None
    max_annex: int = Field(2, ge=0, le=3)
    time_limit_s: float = Field(20.0, gt=0, le=MAX_TIME_S)
    save: bool = Field(False, description="store each suggested plan as a new scenario")
    name: str = Field("Gợi ý", min_length=1, max_length=150,
                      description="name of the plans (numbered when there are several)")

    _builtin = field_validator("regime")(builtin_regime)

    @model_validator(mode="after")
    def _target(self) -> "SuggestRequest":
        if not (self.scope.provinces or self.scope.districts or self.scope.codes):
            raise contract_problem("the scope is empty", 'give scope.provinces, scope.districts or scope.codes')
        if self.mode == "plans" and (self.target_units is None) == (self.target_reduction is None):
            raise contract_problem("give exactly one of target_units and target_reduction",
                                   'e.g. "target_units": 40 or "target_reduction": 65')
        if self.mode == "parent_targets" and self.parent is None:
            raise contract_problem("parent_targets needs the parent", '"parent": {"name": …, "kind": "provincial_city"}')
        return self


@router.post("/suggest", summary="Suggest whole merger plans (gợi ý phương án) or a parent's annexations",
             responses=responses(401, 403, 404, 413, 422, 503))
async def suggest(payload: SuggestRequest, request: Request, service: ServiceDep, actor: WriterDep) -> JSONResponse:
    """``{"scenarios": [...], "report": {...}}`` as ``diagioi suggest --json`` (with ``"saved"`` ids when
    ``save`` is true); ``mode=parent_targets``: the ranked annexations. A write: it may run for
    ``time_limit_s`` (≤ 30 s) of CPU and may store scenarios. The solver runs in the analysis worker
    pool (:mod:`api.workers`), one turn among the polygon analyses, so the server keeps answering."""
    from diagioi.geo.candidates import parent_target_candidates
    from diagioi.geo.scope import resolve_scope
    from diagioi.geo.standards import RuleSet

    units = service.units
    spec = {k: v for k, v in payload.scope.model_dump().items() if v}
    scope = await run_in_threadpool(resolve_scope, units, spec, source="scope")
    units.require_codes(sorted(payload.unit_flags))
    parent = payload.parent.model_dump() if payload.parent else None
    if payload.mode == "parent_targets":
        return JSONResponse(await run_in_threadpool(
            lambda: parent_target_candidates(units, RuleSet.load(payload.regime), list(scope.codes), parent,
                                             unit_flags=payload.unit_flags, max_annex=payload.max_annex)))
    options = {"target_units": payload.target_units, "target_reduction": payload.target_reduction,
               "unit_flags": payload.unit_flags, "context": payload.context, "locks": payload.locks,
               "keep_districts": payload.keep_districts, "alternatives": payload.alternatives, "seed": payload.seed,
               "kind_rule": payload.kind_rule, "parent": parent, "scope": spec, "time_limit_s": payload.time_limit_s,
               "name": payload.name}
    workers = service.settings.analysis_workers
    slots = analysis_slots(request.app, workers)
    try:
        with anyio.fail_after(service.settings.analysis_wait_s):
            await slots.acquire()
    except TimeoutError:
        raise ServerBusyError(Message("error.busy", {"seconds": service.settings.analysis_wait_s}),
                              hint=Message("hint.retry"), context={"analysis_workers": workers}) from None
    try:
        future = submit_suggest(service, workers, list(scope.codes), payload.regime, options)
        result = await asyncio.wrap_future(future)
    finally:
        slots.release()
    if payload.save:
        records = await run_in_threadpool(
            lambda: [service.create_scenario(body, actor=actor) for body in result["scenarios"]])
        result["saved"] = [{"id": record.scenario_id, "name": record.name, "version": record.version}
                           for record in records]
    return JSONResponse(result)
