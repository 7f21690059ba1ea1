"""GET /api/indicators: zoning indicators per unit, or per new unit of a scenario."""
from __future__ import annotations

import io
from typing import Annotated, Literal

import pandas as pd
from fastapi import APIRouter, Query, Response

from diagioi.layers.indicators import INDICATOR_FIELDS, indicators_to_csv

from ..deps import ServiceDep
from ..errors import responses
from ..schemas import IndicatorsPublic
from .exports import attachment

router = APIRouter(prefix="/api", tags=["indicators"])


def _records(table: pd.DataFrame, key: str) -> list[dict]:
    frame = table.drop(columns=["source"], errors="ignore").copy()
    frame.index = frame.index.astype(str)
    frame.index.name = key
    frame = frame.reset_index()
    return [{k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
            for row in frame.to_dict("records")]


@router.get("/indicators", summary="Zoning indicators per unit or per new unit",
            response_model=IndicatorsPublic,
            responses={**responses(404, 422),
                       200: {"description": "JSON table, or CSV with ?format=csv",
                             "content": {"text/csv": {"schema": {"type": "string"}}}}})
def read_indicators(
    service: ServiceDep,
    scenario: Annotated[str | None, Query(description="Scenario id: indicators per new unit; "
                                                      "without it, per existing unit")] = None,
    format: Annotated[Literal["json", "csv"], Query(description="json (default) or csv")] = "json",
):
    """Counts, areas (km²), shares (%) and lengths (km) of the zoning layers in each area; recomputed
    whenever a layer or the scenario changes (the ``version`` says which)."""
    if scenario is None:
        table, version = service.unit_indicators()
        key, scope, scenario_id, name = "code", "units", None, "indicators-units"
    else:
        record = service.store.get_scenario(scenario)
        table, version = service.scenario_indicators(record)
        key, scope, scenario_id, name = "id", "scenario", record.scenario_id, f"indicators-{record.name}"
    if format == "csv":
        frame = table.copy()
        frame.index.name = key
        buffer = io.StringIO()
        indicators_to_csv(frame, buffer)
        return Response(("\ufeff" + buffer.getvalue()).encode("utf-8"), media_type="text/csv; charset=utf-8",
                        headers={**attachment(name, "csv"), "X-Indicators-Version": version})
    source = str(table["source"].iloc[0]) if "source" in table.columns and len(table) else None
    fields = {name_: {"unit": f.unit, "label_vi": f.label_vi, "label_en": f.label_en, "layer": f.layer.value}
              for name_, f in INDICATOR_FIELDS.items()}
    return IndicatorsPublic(scope=scope, scenario_id=scenario_id, version=version, key=key, fields=fields,
                            source=source, data=_records(table, key))
