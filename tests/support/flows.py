"""Steps many API tests begin with, written once: a resident the demo team helps, with a birth
date, and a consent recorded about them."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.conftest import involve
from tests.support.samples import VALID_BSNS, patient


def born(age: int) -> str:
    """A birth date on 1 January, so the person is ``age`` all year."""
    return date(date.today().year - age, 1, 1).isoformat()


def resident(client: TestClient, team: dict[str, str], bsn: str = VALID_BSNS[1],
                       age: int = 40) -> str:
    """A person the demo team helps (an administrator registered it), with a birth date;
    returns ``Patient/{id}``."""
    reference = involve(client, bsn)
    response = client.post("/fhir/Patient", json=patient(bsn, born(age)), headers=team)
    assert response.status_code == 200, response.text
    assert f"Patient/{response.json()['id']}" == reference
    return reference


def post_consent(client: TestClient, headers: dict[str, str],
                 resource: dict[str, Any]) -> httpx.Response:
    return client.post("/fhir/Consent", json=resource, headers=headers)
