"""GET /api/health: is the service up, and which data does it serve."""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import PurePosixPath, PureWindowsPath

from fastapi import APIRouter

from ..deps import ServiceDep
from ..schemas import AuditEntryPublic, HealthPublic

router = APIRouter(prefix="/api", tags=["health"])


def _package_version() -> str:
    try:
        return version("diagioi")
    except PackageNotFoundError:  # running from a source tree that was not pip-installed
        return "0+unknown"


@router.get("/health", summary="Service status and the data it serves", response_model=HealthPublic)
def read_health(service: ServiceDep) -> HealthPublic:
    """Status, package version, number of units and the unit dataset version.

    Public, so it names no path of the server: the dataset by its file name, the store by its kind.
    """
    active = service.store.active_units_dataset()
    return HealthPublic(
        version=_package_version(), units=len(service.units), units_version=service.units.version,
        units_name=_file_name(active.name if active else service.units.source), sample_data=service.sample_data,
        scenarios=len(service.store.list_scenarios()), layer_versions=service.layer_versions(),
        store=service.store.describe().split(":", 1)[0], basemap_url=service.settings.basemap_url,
    )


def _file_name(name: str) -> str:
    """The last part of a name that may be a path (POSIX or Windows)."""
    return PureWindowsPath(PurePosixPath(name).name).name if name else name


@router.get("/audit", summary="Recent changes (audit log, newest first)", response_model=list[AuditEntryPublic])
def read_audit(service: ServiceDep, object_type: str | None = None, object_id: str | None = None,
               limit: int = 100) -> list[AuditEntryPublic]:
    """Who changed what, when, from → to, and against which unit data version."""
    entries = service.store.audit_log(object_type=object_type, object_id=object_id, limit=min(max(limit, 1), 1000))
    return [AuditEntryPublic(**entry.__dict__) for entry in entries]
