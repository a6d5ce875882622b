"""Published Consent examples (HL7 R4, Nictiz-shaped) never make the gateway answer 5xx: each
is a 2xx or a 4xx OperationOutcome that names the element it refuses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.operationoutcome import OperationOutcome

from tests.conftest import involve, row_counts
from tests.support.samples import ACTIVITY_SYSTEM, VALID_BSNS, consent_resource, patient

FIXTURES = Path(__file__).parent.parent / "fixtures" / "consent"
EXAMPLES = sorted(FIXTURES.glob("*.json"))


def _example(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


# The published examples name no purpose the gateway knows, and most give no top-level
# provision.type and no performer: each is refused naming every element it cannot use.
TYPE, PERFORMER, PURPOSE = "Consent.provision.type", "Consent.performer", \
    "Consent.provision.purpose"
EXPECTED = {
    "consent-example-basic": (422, [PERFORMER, TYPE]),
    "consent-example-Emergency": (422, [PERFORMER, TYPE]),
    "consent-example-Out": (422, [PERFORMER, TYPE]),
    "consent-example-grantor": (422, [PERFORMER, TYPE]),
    "consent-example-notAuthor": (422, [PERFORMER, TYPE]),
    "consent-example-notOrg": (400, [PURPOSE]),
    "consent-example-notThem": (422, [PERFORMER, TYPE]),
    "consent-example-notThis": (422, [PERFORMER, TYPE]),
    "consent-example-notTime": (422, [PERFORMER, TYPE]),
    "consent-example-pkb": (422, [PERFORMER, TYPE]),
    "consent-example-signature": (422, [TYPE]),
    "consent-example-smartonfhir": (422, [TYPE]),
    "nictiz-shaped-AdvanceDirective": (400, [PURPOSE]),
    "nictiz-shaped-TreatmentDirective2": (422, ["Consent.modifierExtension"]),
}


def test_every_fixture_has_an_expected_answer() -> None:
    assert sorted(EXPECTED) == sorted(COMPLETED) == sorted(p.stem for p in EXAMPLES)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_published_consent_is_refused_naming_the_elements(name: str, client: TestClient,
                                                          team: dict, sessions) -> None:  # noqa: ANN001
    before = row_counts(sessions)
    response = client.post("/fhir/Consent", json=_example(FIXTURES / f"{name}.json"),
                           headers=team)
    outcome = response.json()
    OperationOutcome.model_validate(outcome)
    expressions = [issue["expression"][0] for issue in outcome["issue"]]
    assert (response.status_code, expressions) == EXPECTED[name]
    assert row_counts(sessions) == before


# The same examples with our purpose, a default type, and about a resident the team helps:
# recorded, or refused naming what the gateway cannot record. A permit narrowed in ways the
# gateway does not enforce (action, securityLabel, data, nested provisions) is refused, since
# recording it without them would disclose more than was agreed.
ACTOR_REF, ACTION = "Consent.provision.actor[0].reference", "Consent.provision.action"
NESTED, DATA = "Consent.provision.provision", "Consent.provision.data"
COMPLETED = {
    "consent-example-basic": (201, []),
    "consent-example-Emergency": (422, [NESTED]),
    "consent-example-Out": (201, []),
    "consent-example-grantor": (422, ["Consent.provision.actor", ACTION]),
    "consent-example-notAuthor": (201, []),
    "consent-example-notOrg": (201, []),  # an objection: what it cannot record only widens it
    "consent-example-notThem": (422, [ACTOR_REF, ACTION]),
    "consent-example-notThis": (422, [DATA]),
    "consent-example-notTime": (201, []),
    "consent-example-pkb": (422, [ACTION, "Consent.provision.securityLabel", NESTED]),
    "consent-example-signature": (422, [ACTOR_REF, NESTED]),
    "consent-example-smartonfhir": (422, [NESTED]),
    "nictiz-shaped-AdvanceDirective": (422, [ACTOR_REF]),
    "nictiz-shaped-TreatmentDirective2": (422, ["Consent.modifierExtension"]),
}


@pytest.mark.parametrize("name", sorted(COMPLETED))
def test_published_consent_about_our_resident(name: str, client: TestClient,
                                              team: dict) -> None:
    resident = involve(client, VALID_BSNS[1])
    born = client.post("/fhir/Patient", json=patient(VALID_BSNS[1], "1980-01-01"), headers=team)
    assert born.status_code == 200, born.text
    resource = _example(FIXTURES / f"{name}.json")
    resource["provision"] = {"type": "permit", **resource["provision"],
                             "purpose": [{"system": ACTIVITY_SYSTEM,
                                          "code": "gp-referral-to-wijkteam"}]}
    resource["patient"], resource["performer"] = {"reference": resident}, [{"reference": resident}]
    response = client.post("/fhir/Consent", json=resource, headers=team)
    issues = response.json().get("issue", []) if response.status_code >= 400 else []
    assert (response.status_code, [i["expression"][0] for i in issues]) == COMPLETED[name]


@pytest.mark.parametrize("purpose", [None, [], [{"system": "urn:x", "code": "y"}]],
                         ids=["absent", "empty", "foreign system"])
def test_consent_without_a_usable_purpose_is_400(purpose: list | None, client: TestClient,
                                                 team: dict) -> None:
    body = consent_resource(involve(client, VALID_BSNS[1]))
    if purpose is None:
        del body["provision"]["purpose"]
    else:
        body["provision"]["purpose"] = purpose
    response = client.post("/fhir/Consent", json=body, headers=team)
    assert response.status_code == 400, response.text
    issue = response.json()["issue"][0]
    assert issue["expression"] == ["Consent.provision.purpose"]
    assert issue["diagnostics"].startswith("give exactly one purpose with system ")
