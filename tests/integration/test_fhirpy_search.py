"""Searching with fhirpy's documented calls only, against a live gateway: count(), paging by
the Bundle's next links (fetch_all), include/revinclude, elements, and a URL reference."""

from __future__ import annotations

import asyncio

import httpx
from fhirpy import AsyncFHIRClient, SyncFHIRClient

from tests.integration.conftest import token_for
from tests.support.samples import service_request
from tests.support.server import LiveServer


def _client(server: LiveServer, client_id: str) -> SyncFHIRClient:
    return SyncFHIRClient(f"{server.url}/fhir",
                          authorization=f"Bearer {token_for(server, client_id)}")


def _refer(server: LiveServer, gp: SyncFHIRClient, count: int) -> list[str]:
    ids = []
    for _ in range(count):
        referral = gp.resource("ServiceRequest", **service_request())
        referral.save()
        ids.append(referral.id)
    return ids


def test_count_paging_include_and_elements(server: LiveServer) -> None:
    gp = _client(server, "demo-huisarts")
    ids = _refer(server, gp, 5)
    referrals = gp.resources("ServiceRequest")
    assert referrals.count() == 5
    assert [r.id for r in referrals.limit(2).fetch_all()] == ids  # three pages, by next links
    assert [r.id for r in referrals.sort("-_lastUpdated").limit(2).fetch()] == ids[:-3:-1]
    tasks = gp.resources("Task").search(focus=f"{server.url}/fhir/ServiceRequest/{ids[0]}")
    raw = tasks.include("Task", "focus").fetch_raw()
    assert [(e.search.mode, e.resource.resourceType) for e in raw.entry] == [
        ("match", "Task"), ("include", "ServiceRequest")]
    assert raw.entry[1].resource.id == ids[0]
    with_tasks = referrals.search(identifier=raw.entry[1].resource["identifier"][0]["value"])
    modes = [e.search.mode for e in with_tasks.revinclude("Task", "focus").fetch_raw().entry]
    assert modes == ["match", "include"]
    slim = referrals.elements("status").first()
    assert sorted(slim) == ["id", "intent", "meta", "resourceType", "status", "subject"]
    assert [t["code"] for t in slim["meta"]["tag"]] == ["SUBSETTED"]


def test_async_count_and_since(server: LiveServer) -> None:
    gp = _client(server, "demo-huisarts")
    _refer(server, gp, 2)
    token = token_for(server, "demo-wijkteam-noord")

    async def poll() -> tuple[int, int]:
        team = AsyncFHIRClient(f"{server.url}/fhir", authorization=f"Bearer {token}")
        tasks = team.resources("Task")
        return await tasks.count(), await tasks.search(_lastUpdated="gt2100-01-01").count()

    assert asyncio.run(poll()) == (2, 0)


def test_the_self_link_is_the_page_itself(server: LiveServer) -> None:
    gp = _client(server, "demo-huisarts")
    _refer(server, gp, 3)
    headers = {"Authorization": gp.authorization}
    first = httpx.get(f"{server.url}/fhir/ServiceRequest", params={"_count": 2},
                      headers=headers).json()
    links = {link["relation"]: link["url"] for link in first["link"]}
    assert httpx.get(links["self"], headers=headers).json() == first
    second = httpx.get(links["next"], headers=headers).json()
    back = {link["relation"]: link["url"] for link in second["link"]}
    assert httpx.get(back["previous"], headers=headers).json() == first
