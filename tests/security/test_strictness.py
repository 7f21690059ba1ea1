"""Strictness instead of silent coercion (issue 8, item 7): what cannot be used as sent is refused
with a hint, and a write that changes nothing is a no-op (no new version, no audit row)."""
from __future__ import annotations

import pytest

from security_helpers import AUTH

ENGLISH = {"Accept-Language": "en"}  # the refusals are checked in English words (Vietnamese is the default)

SITE = {"type": "Feature", "id": "chua-1", "geometry": {"type": "Point", "coordinates": [105.766, 21.619]},
        "properties": {"name": "Chùa Thạch Long", "rank": "provincial", "category": "pagoda"}}
OPEN_RING = [[105.76, 21.61], [105.77, 21.61], [105.77, 21.62], [105.76, 21.62]]
AREA = {"type": "Feature", "properties": {"name": "Khu du lịch hồ"},
        "geometry": {"type": "Polygon", "coordinates": [OPEN_RING + [OPEN_RING[0]]]}}


def _with(feature, **changes):
    return {**feature, **changes}


@pytest.mark.parametrize("feature_id", ["a/b", "../x", "x?y", "", "x" * 300])
def test_feature_ids_that_cannot_be_addressed_are_refused(client, feature_id):
    response = client.post("/api/layers/tourism_sites", json=_with(SITE, id=feature_id), headers={**AUTH, **ENGLISH})
    assert response.status_code == 422, response.text
    assert "/api/layers/<kind>/<id>" in response.json()["detail"]
    assert client.get("/api/layers/tourism_sites").json()["features"] == []


@pytest.mark.parametrize("coordinates, problem", [
    (["105.766", "21.619"], "must be numbers"),
    ([105.766, 21.619, 1e308], "not on Earth"),
    ([True, 21.619], "must be numbers"),
    ([105.766], "[lon, lat]"),
])
def test_coordinates_must_be_plain_numbers_on_earth(client, coordinates, problem):
    feature = _with(SITE, geometry={"type": "Point", "coordinates": coordinates})
    response = client.post("/api/layers/tourism_sites", json=feature, headers={**AUTH, **ENGLISH})
    assert response.status_code == 422, response.text
    assert problem in response.json()["detail"]


@pytest.mark.parametrize("where", ["feature", "geometry", "collection"])
def test_a_crs_member_is_not_ignored(client, where):
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3405"}}
    feature = _with(SITE, crs=crs) if where == "feature" else \
        _with(SITE, geometry={**SITE["geometry"], "crs": crs}) if where == "geometry" else SITE
    body = {"type": "FeatureCollection", "crs": crs, "features": [feature]} if where == "collection" else feature
    response = client.post("/api/layers/tourism_sites", json=body, headers=AUTH)
    assert response.status_code == 422, response.text
    assert "EPSG:4326" in response.json()["hint"]


def test_a_crs_member_restating_lon_lat_is_accepted(client):
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    response = client.post("/api/layers/tourism_sites", json=_with(SITE, crs=crs), headers=AUTH)
    assert response.status_code == 201, response.text


def test_unclosed_rings_are_refused_in_json_layer_posts(client):
    feature = _with(AREA, geometry={"type": "Polygon", "coordinates": [OPEN_RING]})
    response = client.post("/api/layers/tourism_sites", json=feature, headers={**AUTH, **ENGLISH})
    assert response.status_code == 422, response.text
    body = response.json()
    assert "not closed" in body["detail"] and "first position" in body["hint"]
    assert client.post("/api/layers/tourism_sites", json=AREA, headers=AUTH).status_code == 201


def test_unclosed_rings_are_refused_by_the_analysis_route(client):
    response = client.post("/api/analysis/polygon", json={"type": "Polygon", "coordinates": [OPEN_RING]},
                           headers=ENGLISH)
    assert response.status_code == 422, response.text
    assert "not closed" in response.json()["detail"]
    assert "first position" in response.json()["hint"]
    closed = client.post("/api/analysis/polygon", json=AREA["geometry"])
    assert closed.status_code == 200, closed.text


def _audit_rows(client) -> int:
    return len(client.get("/api/audit").json())


def test_an_empty_reassign_is_a_no_op(client):
    created = client.post("/api/scenarios", headers=AUTH, json={
        "name": "Lưới", "new_units": [{"id": "n1", "name": "Xã A", "kind": "commune", "members": ["00001"]}]}).json()
    rows = _audit_rows(client)
    for assignments in ({}, {"00001": "n1"}):
        response = client.post(f"/api/scenarios/{created['id']}/reassign", headers=AUTH,
                               json={"version": created["version"], "assignments": assignments})
        assert response.status_code == 200, response.text
        assert response.json()["version"] == created["version"] and response.json()["changed"] == []
    assert client.get(f"/api/scenarios/{created['id']}").json()["version"] == created["version"]
    assert _audit_rows(client) == rows


def test_an_unchanged_scenario_put_is_a_no_op(client):
    created = client.post("/api/scenarios", headers=AUTH, json={
        "name": "Lưới", "new_units": [{"id": "n1", "name": "Xã A", "kind": "commune", "members": ["00001"]}]}).json()
    rows = _audit_rows(client)
    response = client.put(f"/api/scenarios/{created['id']}", headers=AUTH,
                          json={**created["scenario"], "version": created["version"]})
    assert response.status_code == 200, response.text
    assert response.json()["version"] == created["version"]
    assert _audit_rows(client) == rows
    changed = client.put(f"/api/scenarios/{created['id']}", headers=AUTH,
                         json={**created["scenario"], "name": "Lưới 2", "version": created["version"]})
    assert changed.json()["version"] == created["version"] + 1


def test_an_unchanged_feature_put_is_a_no_op(client):
    created = client.post("/api/layers/tourism_sites", json=SITE, headers=AUTH).json()
    layer_version = created["layer_version"]
    rows = _audit_rows(client)
    response = client.put("/api/layers/tourism_sites/chua-1", json={**SITE, "version": 1}, headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 1
    assert client.get("/api/layers/tourism_sites").json()["layer_version"] == layer_version
    assert _audit_rows(client) == rows
