"""The GP's and the team's side with SMART's fhirclient (R4 models, strict parsing), using its
documented calls only: a client restored from state with an access token, ``create``, ``read``,
``update``, ``where(...).perform_resources_iter``. Strict R4 parsing is the point: a minimised
referral that loses a required element, or keeps a dangling reference, fails here."""

from __future__ import annotations

import json

from fhirclient.client import FHIRClient
from fhirclient.models.servicerequest import ServiceRequest
from fhirclient.models.subscription import Subscription
from fhirclient.models.task import Task

from gateway.delivery.worker import Worker
from gateway.platform.settings import Settings
from tests.integration.conftest import token_for
from tests.support.samples import REFERRAL_SYSTEM, service_request, subscription
from tests.support.server import LiveServer
from tests.support.webhooks import WebhookReceiver


def _client(server: LiveServer, client_id: str) -> FHIRClient:
    """fhirclient's way to use a token obtained elsewhere: restore the client from its state."""
    return FHIRClient(state={"app_id": client_id, "server": {
        "base_uri": f"{server.url}/fhir/", "auth_type": "oauth2",
        "auth": {"access_token": token_for(server, client_id)}}})


def test_gp_and_team_work_through_fhirclient(server: LiveServer, sessions,  # noqa: ANN001
                                            live_settings: Settings) -> None:
    gp = _client(server, "demo-huisarts").server
    team = _client(server, "demo-wijkteam-noord").server

    created = ServiceRequest(service_request(identifier="fhirclient-1")).create(gp)
    referral = ServiceRequest.read(created["id"], gp)
    assert referral.subject.identifier.value == created["subject"]["identifier"]["value"]
    found = list(ServiceRequest.where(
        {"identifier": f"{REFERRAL_SYSTEM}|fhirclient-1"}).perform_resources_iter(gp))
    assert [r.id for r in found] == [referral.id]

    with_referral = Task.where({"focus": f"ServiceRequest/{referral.id}"}).include("focus")
    included = [e.resource for page in with_referral.perform_iter(gp) for e in page.entry
                if e.search.mode == "include"]
    assert [(r.resource_type, r.id) for r in included] == [("ServiceRequest", referral.id)]

    # no consent recorded: the team's view is minimised, and still strict R4
    seen = ServiceRequest.read(referral.id, team)
    assert seen.subject.identifier is None and seen.note is None
    assert "SUBSETTED" in [tag.code for tag in seen.meta.tag]

    hook = WebhookReceiver().start()
    try:
        Subscription(subscription(hook.url, f"Task?focus=ServiceRequest/{referral.id}")
                     ).create(gp)
        task = next(Task.where({"focus": f"ServiceRequest/{referral.id}"})
                    .perform_resources_iter(team))
        for status in ("accepted", "in-progress", "completed"):
            task.status = status
            task.update(team)  # a plain PUT, no If-Match: applies, as on HAPI
            task = Task.read(task.id, team)
        assert task.meta.versionId == "4"
        assert Worker(sessions, live_settings).run_once() == 3
        assert [json.loads(r.body)["status"] for r in hook.received] == \
            ["accepted", "in-progress", "completed"]
        assert Task.read(task.id, gp).status == "completed"
    finally:
        hook.stop()


def test_fhirclient_pages_through_a_search(server: LiveServer) -> None:
    gp = _client(server, "demo-huisarts").server
    ids = {ServiceRequest(service_request()).create(gp)["id"] for _ in range(5)}
    pages = list(ServiceRequest.where({"_count": "2"}).perform_iter(gp))
    assert [len(page.entry) for page in pages] == [2, 2, 1]
    assert {e.resource.id for page in pages for e in page.entry} == ids
