"""A team's system moves a Task with fhirpy's documented calls only (``patch()``, ``save()``,
``delete()``, ``execute()``): no If-Match, no extra headers, as against HAPI FHIR."""

from __future__ import annotations

import asyncio

import pytest
from fhirpy import AsyncFHIRClient, SyncFHIRClient
from fhirpy.base.exceptions import ResourceNotFound

from tests.integration.conftest import token_for
from tests.support.samples import service_request, subscription
from tests.support.server import LiveServer


def _client(server: LiveServer, client_id: str) -> SyncFHIRClient:
    return SyncFHIRClient(f"{server.url}/fhir",
                          authorization=f"Bearer {token_for(server, client_id)}")


def test_team_patches_and_saves_and_reads_the_history(server: LiveServer) -> None:
    gp, team = _client(server, "demo-huisarts"), _client(server, "demo-wijkteam-noord")
    referral = gp.resource("ServiceRequest", **service_request())
    referral.save()
    task = team.resources("Task").search(focus=f"ServiceRequest/{referral.id}").first()

    task.patch(status="accepted")  # a partial Task as application/json: a merge patch
    assert (task["status"], task["meta"]["versionId"]) == ("accepted", "2")
    task["status"] = "in-progress"
    task.save()  # a PUT without If-Match applies
    assert task["meta"]["versionId"] == "3"

    first = team.execute(f"Task/{task.id}/_history/1", method="get")
    assert first["status"] == "requested"
    history = team.execute(f"Task/{task.id}/_history", method="get")
    assert [e["resource"]["status"] for e in history["entry"]] == [
        "in-progress", "accepted", "requested"]
    assert gp.execute(f"ServiceRequest/{referral.id}/_history/1", method="get")["id"] \
        == referral.id


def test_a_deleted_subscription_is_gone(server: LiveServer) -> None:
    gp = _client(server, "demo-huisarts")
    hook = gp.resource("Subscription", **subscription("http://127.0.0.1:9/hook"))
    hook.save()
    hook.delete()
    with pytest.raises(ResourceNotFound):  # fhirpy raises it for 404 and 410
        gp.reference("Subscription", hook.id).to_resource()


def test_async_patch(server: LiveServer) -> None:
    gp = _client(server, "demo-huisarts")
    referral = gp.resource("ServiceRequest", **service_request())
    referral.save()
    team = AsyncFHIRClient(f"{server.url}/fhir", authorization=(
        f"Bearer {token_for(server, 'demo-wijkteam-noord')}"))

    async def patch() -> dict:
        task = await team.resources("Task").search(
            focus=f"ServiceRequest/{referral.id}").first()
        await task.patch(status="accepted")  # aiohttp json=: application/json
        return task.serialize()

    task = asyncio.run(patch())
    assert (task["status"], task["meta"]["versionId"]) == ("accepted", "2")
