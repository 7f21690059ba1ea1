"""Scenarios: CRUD with optimistic concurrency, evaluation, and incremental reassignment."""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from diagioi.geo.errors import InputError
from diagioi.geo.i18n import Message

from ..deps import LangDep, ScenarioDep, ServiceDep, WriterDep
from ..errors import responses
from ..schemas import (
    EvaluationPublic,
    MigrateRequest,
    ReassignRequest,
    ReassignResult,
    ScenarioCreate,
    ScenarioList,
    ScenarioPatch,
    ScenarioPublic,
    ScenarioSummary,
    ScenarioUpdate,
)
from ..store import ScenarioRecord

router = APIRouter(prefix="/api/scenarios", tags=["scenarios"])


def _public(record: ScenarioRecord, service) -> ScenarioPublic:
    dataset = service.dataset_of(record)
    return ScenarioPublic(id=record.scenario_id, name=record.name, version=record.version,
                          units_version=dataset, dataset_outdated=dataset != service.units.version,
                          default_units_version=service.units.version, created_at=record.created_at,
                          updated_at=record.updated_at, scenario=record.body,
                          tilejson=f"/api/tiles/scenario-{record.scenario_id}.json?v={record.version}")


def _body(model: ScenarioCreate) -> dict:
    return model.to_dict()


@router.get("", summary="List scenarios", response_model=ScenarioList)
def list_scenarios(service: ServiceDep) -> ScenarioList:
    """All stored scenarios, oldest first."""
    records = service.store.list_scenarios()
    data = [ScenarioSummary(id=r.scenario_id, name=r.name, version=r.version,
                            new_units=len(r.body.get("new_units", [])), updated_at=r.updated_at,
                            units_version=service.dataset_of(r),
                            dataset_outdated=service.dataset_of(r) != service.units.version) for r in records]
    return ScenarioList(data=data, count=len(data))


@router.post("", summary="Create a scenario", status_code=201, response_model=ScenarioPublic,
             responses=responses(401, 403, 413, 422))
def create_scenario(payload: ScenarioCreate, service: ServiceDep, actor: WriterDep) -> ScenarioPublic:
    """Validate the scenario against the active units and store it at version 1."""
    return _public(service.create_scenario(_body(payload), actor=actor), service)


@router.get("/{scenario_id}", summary="Read a scenario", response_model=ScenarioPublic, responses=responses(404))
def read_scenario(record: ScenarioDep, service: ServiceDep) -> ScenarioPublic:
    """The stored scenario and its version (send the version back when saving)."""
    return _public(record, service)


@router.put("/{scenario_id}", summary="Replace a scenario (optimistic concurrency)", response_model=ScenarioPublic,
            responses=responses(401, 403, 404, 409, 413, 422))
def update_scenario(scenario_id: str, payload: ScenarioUpdate, service: ServiceDep,
                    actor: WriterDep) -> ScenarioPublic:
    """Save a new version. A body based on an older version gets 409 with the current version."""
    record = service.update_scenario(scenario_id, _body(payload), expected_version=payload.version, actor=actor)
    return _public(record, service)


@router.patch("/{scenario_id}", summary="Change parent, scope, regime, description or flags of a scenario",
              response_model=ScenarioPublic, responses=responses(401, 403, 404, 409, 413, 422))
def patch_scenario(scenario_id: str, payload: ScenarioPatch, service: ServiceDep,
                   actor: WriterDep) -> ScenarioPublic:
    """Change only the named fields (``null`` clears one); the new units stay as they are. Stale version → 409."""
    record = service.patch_scenario(scenario_id, payload.changes(), expected_version=payload.version, actor=actor)
    return _public(record, service)


@router.post("/{scenario_id}/flags", summary="Upload a region-flags table (CSV/XLSX) into a scenario's unit_flags",
             response_model=ScenarioPublic, responses=responses(401, 403, 404, 409, 413, 422))
async def upload_flags(scenario_id: str, request: Request, service: ServiceDep, actor: WriterDep) -> JSONResponse:
    """Multipart: ``file`` (code,mountainous,border,island,red_river_delta,ethnic_minority_share), ``version``
    (the one you loaded) and optionally ``join_on`` (code|name). The rows join the scenario's ``unit_flags``
    (a row's values replace that unit's); unknown codes or bad cells refuse the whole table."""
    try:
        form = await request.form()
    except (AssertionError, StarletteHTTPException, ValueError) as error:
        raise InputError(Message("error.upload_unreadable"), hint=Message("hint.flags_upload_unreadable"),
                         code="input") from error
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InputError(Message("error.upload_no_file"), hint=Message("hint.flags_upload_no_file"), code="input")
    suffix = Path(upload.filename or "").suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise InputError(Message("error.flags_upload_format", {"file": repr(upload.filename)}),
                         hint=Message("hint.flags_upload_format"), context={"file": upload.filename}, code="input")
    version = str(form.get("version") or "")
    if not version.isdigit() or int(version) < 1:
        raise InputError(Message("error.flags_upload_version"), hint=Message("hint.flags_upload_version"),
                         code="input")
    join_on = str(form.get("join_on") or "code")
    content = await upload.read()
    with tempfile.TemporaryDirectory(prefix="diagioi-flags-") as folder:
        path = Path(folder) / f"flags{suffix}"
        path.write_bytes(content)
        record, report = await run_in_threadpool(service.upload_flags, scenario_id, path, name=upload.filename,
                                                 expected_version=int(version), join_on=join_on, actor=actor)
    return JSONResponse({**_public(record, service).model_dump(), "flags_join": report})


@router.delete("/{scenario_id}", summary="Delete a scenario", status_code=204,
               responses=responses(401, 403, 404, 409))
def delete_scenario(
    scenario_id: str, service: ServiceDep, actor: WriterDep,
    version: Annotated[int | None, Query(description="The version you saw; stale → 409")] = None,
) -> Response:
    """Delete the scenario (and, with ``?version=``, only if nobody changed it meanwhile)."""
    service.delete_scenario(scenario_id, expected_version=version, actor=actor)
    return Response(status_code=204)


@router.get("/{scenario_id}/evaluation", summary="Evaluate a scenario against the standards",
            response_model=EvaluationPublic, responses=responses(404, 422))
def read_evaluation(record: ScenarioDep, service: ServiceDep, lang: LangDep) -> JSONResponse:
    """Same JSON as ``diagioi evaluate --json`` (areas km², population người, density người/km²).

    Warnings, notes and citations are in the reader's language (``?lang=`` or ``Accept-Language``,
    Vietnamese by default); their typed forms (``warning_messages``, ``note_messages``) come along.
    """
    # Returned as built by geo.evaluation (the model documents it; re-validating would only cost time),
    # and encoded once per scenario version and language.
    dataset = service.dataset_of(record)
    return Response(service.evaluation_json(record, lang), media_type="application/json", headers={
        "X-Scenario-Version": str(record.version), "X-Units-Version": dataset,
        "X-Dataset-Outdated": "true" if dataset != service.units.version else "false"})


@router.post("/{scenario_id}/reassign", summary="Move units between new units (incremental)",
             response_model=ReassignResult, responses=responses(401, 403, 404, 409, 413, 422))
def reassign_units(scenario_id: str, payload: ReassignRequest, service: ServiceDep,
                   actor: WriterDep) -> JSONResponse:
    """Apply ``{unit_code: new_unit_id | null}`` moves; returns the new version and only the changed new units."""
    outcome = service.reassign(scenario_id, payload.assignments, expected_version=payload.version, actor=actor)
    return JSONResponse(service.reassign_result(outcome))


@router.post("/{scenario_id}/migrate", summary="Move a scenario onto another units dataset",
             responses=responses(401, 403, 404, 409, 422))
def migrate_scenario(scenario_id: str, payload: MigrateRequest, service: ServiceDep, actor: WriterDep) -> dict:
    """Re-base the scenario on the default dataset (or ``dataset``), explicitly.

    The answer lists the member units the target dataset no longer has (``removed_units``,
    taken out of their new units) and the members whose name, population or area changed
    (``changed_units``, before/after). With ``dry_run`` nothing is saved.
    """
    return service.migrate_scenario(scenario_id, expected_version=payload.version, target=payload.dataset,
                                    dry_run=payload.dry_run, actor=actor)
