"""Every nl-core referral shape in tests/fixtures/referrals through SMART's fhirclient, as a GP
system and a team system use it: created, read back by both (strict R4 parsing; the team's
minimised view keeps no dangling contained reference and claims no profile), the Task found
with ``include``, the referral with ``include(..., reverse=True)``, and a poll with fhirclient's
documented ``{"$gt": ...}``, which sends DSTU1's ``>`` (HAPI reads it, so must we)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fhirclient.client import FHIRClient
from fhirclient.models.servicerequest import ServiceRequest
from fhirclient.models.task import Task
from fhirclient.server import FHIRServer

from gateway.referrals import teams
from tests.gateway.test_referral_shapes import FIXTURES, REQUESTERS, TEAM, TEAM_IDENTIFIERS
from tests.integration.conftest import token_for
from tests.support.server import LiveServer


@pytest.fixture
def identified_team(sessions, seeded: None) -> None:  # noqa: ANN001
    with sessions.begin() as session:
        teams.add_identifiers(session, TEAM, TEAM_IDENTIFIERS)


def _server(server: LiveServer, client_id: str) -> FHIRServer:
    """fhirclient's way to use a token obtained elsewhere: restore the client from its state."""
    return FHIRClient(state={"app_id": client_id, "server": {
        "base_uri": f"{server.url}/fhir/", "auth_type": "oauth2",
        "auth": {"access_token": token_for(server, client_id)}}}).server


def _local_references(value: Any) -> set[str]:
    """Every ``#id`` a resource points at, wherever it sits."""
    if isinstance(value, dict):
        found = {value["reference"][1:]} if str(value.get("reference", "")).startswith("#") \
            else set()
        return found.union(*(_local_references(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_local_references(v) for v in value))
    return set()


@pytest.mark.parametrize("name", sorted(REQUESTERS))
def test_each_nl_core_shape_through_fhirclient(name: str, identified_team: None,
                                               server: LiveServer) -> None:
    gp, team = _server(server, "demo-huisarts"), _server(server, "demo-wijkteam-noord")
    sent = json.loads((FIXTURES / f"{name}.json").read_text())

    referral_id = ServiceRequest(sent).create(gp)["id"]
    own = ServiceRequest.read(referral_id, gp).as_json()
    assert (own["requester"], own["performer"]) == (sent["requester"], sent["performer"])

    seen = ServiceRequest.read(referral_id, team).as_json()  # no consent: minimised
    assert (seen["meta"].get("profile"), [t["code"] for t in seen["meta"]["tag"]]) == \
        (None, ["SUBSETTED"])
    assert "identifier" not in seen["subject"]
    assert _local_references(seen) <= {c["id"] for c in seen.get("contained", [])}

    task, included = list(Task.where({"focus": f"ServiceRequest/{referral_id}"}) \
        .include("focus").perform_resources_iter(team))
    assert (task.requester.as_json(), included.id) == (REQUESTERS[name], referral_id)
    with_tasks = ServiceRequest.where({"identifier": sent["identifier"][0]["value"]}) \
        .include("focus", Task, reverse=True).perform_resources_iter(gp)
    assert [(r.resource_type, r.id) for r in with_tasks] == \
        [("ServiceRequest", referral_id), ("Task", task.id)]
    polled = Task.where({"_lastUpdated": {"$gt": "2020-01-01"}}).perform_resources_iter(team)
    assert [t.id for t in polled] == [task.id]
