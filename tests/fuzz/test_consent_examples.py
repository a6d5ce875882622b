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
from tests.support.samples import ACTIVITY_SYSTEM, VALID_BSNS, consent_resource

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
    "nictiz-shaped-TreatmentDirective2": (400, [PURPOSE]),
}


def test_every_fixture_has_an_expected_answer() -> None:
    assert sorted(EXPECTED) == sorted(p.stem for p in EXAMPLES)


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


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_published_consent_completed_goes_deeper_without_a_5xx(path: Path, client: TestClient,
                                                               team: dict) -> None:
    """With our purpose, a type and a performer added, each example reaches the recipient,
    category, period and patient checks; those answer too, never with a 5xx."""
    resource = _example(path)
    resource["provision"] = {"type": "permit", **resource["provision"],
                             "purpose": [{"system": ACTIVITY_SYSTEM,
                                          "code": "gp-referral-to-wijkteam"}]}
    resource.setdefault("performer", [resource["patient"]])
    response = client.post("/fhir/Consent", json=resource, headers=team)
    assert 400 <= response.status_code < 500, response.text
    OperationOutcome.model_validate(response.json())


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
