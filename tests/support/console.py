"""The privacy officers' console in tests: accounts, logging in, and one resident's history
(a consent, its revocation, a disclosure, a withheld referral and a meldrecht override) made
through the API, as the gateway's clients would make it."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
from sqlalchemy.orm import Session, sessionmaker

from gateway.console.officers import ROLE_PRIVACY_OFFICER, add_officer
from tests.conftest import bearer
from tests.support.samples import VALID_BSNS, service_request, subscription

OFFICER, PASSWORD = "anna.de-boer", "correct horse battery staple"
BSN = VALID_BSNS[0]
JUSTIFICATION = "Acuut gevaar voor de bewoner; collegiaal overleg gevoerd, meldcode stap 5."
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_account(sessions: sessionmaker[Session], username: str = OFFICER,
                role: str = ROLE_PRIVACY_OFFICER) -> str:
    with sessions.begin() as session:
        add_officer(session, username, PASSWORD, role)
    return username


def csrf_token(html: str) -> str:
    match = _CSRF.search(html)
    assert match is not None, "no CSRF token on the page"
    return match.group(1)


def log_in(client: httpx.Client, username: str = OFFICER,
           password: str = PASSWORD) -> httpx.Response:
    token = csrf_token(client.get("/console/login").text)
    return client.post("/console/login", data={"username": username, "password": password,
                                               "csrf_token": token}, follow_redirects=False)


@dataclass(frozen=True)
class History:
    consent_id: str
    override_id: str


def resident_history(client: httpx.Client, webhook_url: str) -> History:
    gp = {**bearer(client, "demo-huisarts"), "Content-Type": "application/fhir+json"}
    team = {**bearer(client, "demo-wijkteam-noord"), "Content-Type": "application/fhir+json"}
    assert client.post("/fhir/Subscription", headers=team, json=subscription(
        webhook_url, "ServiceRequest")).status_code == 201
    assert client.post("/fhir/ServiceRequest", headers=gp, json=service_request(
        consent="self", bsn=BSN)).status_code == 201  # consented: disclosed to the team
    consent = client.get("/fhir/Consent", headers=team).json()["entry"][0]["resource"]
    assert client.put(f"/fhir/Consent/{consent['id']}", json={**consent, "status": "inactive"},
                      headers={**team, "If-Match": 'W/"1"'}).status_code == 200
    assert client.post("/fhir/ServiceRequest", headers=gp, json=service_request(
        bsn=BSN)).status_code == 201  # consent revoked: withheld
    decided = client.post("/consent/decisions", headers=team, json={
        "activity": "report-to-veilig-thuis", "patient": BSN,
        "recipients": [{"organization": "veilig-thuis-groningen", "role": "veilig-thuis"}],
        "override": {"justification": JUSTIFICATION, "meldcode_step": 5}})
    assert decided.status_code == 200, decided.text
    return History(consent["id"], decided.json()["override"]["id"])
