"""FHIR samples as factories with traits: ``service_request(no_bsn=True)``."""

from __future__ import annotations

import itertools
from typing import Any

BSN = "http://fhir.nl/fhir/NamingSystem/bsn"
AGB = "http://fhir.nl/fhir/NamingSystem/agb-z"
REFERRAL_SYSTEM = "urn:oid:2.16.528.1.1007.3.3.1234.1"
VALID_BSNS = ("111222333", "123456782", "999998456", "999990019")
PATIENT_NAME = "Jansen-de Vries"
NOTE_TEXT = "Moeder overbelast, zorgen over schulden"
_counter = itertools.count(1)


def service_request(*, bsn: str | None = VALID_BSNS[0], agb: str = "01234567",
                    team: str = "wijkteam-noord", identifier: str | None = "auto",
                    no_bsn: bool = False, contained_requester: bool = False,
                    dutch_profile: bool = False) -> dict[str, Any]:
    """A GP referral. ``no_bsn``: a contained Patient with name and birth date instead."""
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "status": "active",
        "intent": "order",
        "subject": {"type": "Patient", "identifier": {"system": BSN, "value": bsn}},
        "requester": {"type": "Practitioner", "identifier": {"system": AGB, "value": agb}},
        "performer": [{"reference": f"Organization/{team}"}],
        "reasonCode": [{"text": "Zorgen over opvoeding en schulden"}],
        "note": [{"text": NOTE_TEXT}],
    }
    if identifier is not None:
        value = f"ref-{next(_counter)}" if identifier == "auto" else identifier
        resource["identifier"] = [{"system": REFERRAL_SYSTEM, "value": value}]
    contained = []
    if no_bsn:
        contained.append({"resourceType": "Patient", "id": "patient",
                          "name": [{"family": PATIENT_NAME, "given": ["Fatima"]}],
                          "birthDate": "2011-04-03",
                          "address": [{"line": ["Dorpsstraat 12"], "city": "Groningen"}]})
        resource["subject"] = {"reference": "#patient"}
    if contained_requester:
        contained.append({"resourceType": "PractitionerRole", "id": "gp",
                          "practitioner": {"identifier": {"system": AGB, "value": agb},
                                           "display": "dr. A. Bakker"}})
        resource["requester"] = {"reference": "#gp"}
    if contained:
        resource["contained"] = contained
    if dutch_profile:
        resource["meta"] = {"profile": [
            "http://nictiz.nl/fhir/StructureDefinition/nl-core-Referral",
            "http://example.org/fhir/StructureDefinition/gp-referral"]}
        resource["extension"] = [{"url": "http://nictiz.nl/fhir/StructureDefinition/ext-x",
                                  "valueString": "kept"}]
    return resource


def subscription(endpoint: str, criteria: str = "Task", **channel: Any) -> dict[str, Any]:
    return {"resourceType": "Subscription", "status": "requested", "reason": "feedback",
            "criteria": criteria,
            "channel": {"type": "rest-hook", "endpoint": endpoint,
                        "payload": "application/fhir+json", **channel}}
