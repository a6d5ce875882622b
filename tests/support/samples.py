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
ADULT_BIRTH_DATE = "1985-02-14"
ACTIVITY_SYSTEM = "https://wijkgateway.nl/fhir/CodeSystem/processing-activity"
ROLE_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
_counter = itertools.count(1)


def service_request(*, bsn: str | None = VALID_BSNS[0], agb: str = "01234567",
                    team: str = "wijkteam-noord", identifier: str | None = "auto",
                    no_bsn: bool = False, contained_requester: bool = False,
                    dutch_profile: bool = False, consent: str | None = None,
                    birth_date: str = ADULT_BIRTH_DATE) -> dict[str, Any]:
    """A GP referral. ``no_bsn``: a contained Patient with name and birth date instead.
    ``consent``: the resident's consent travels along as a contained Consent, given by the
    resident ("self") or a parent ("parent"); None: no consent, the subject by BSN only."""
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
    contained: list[dict[str, Any]] = []
    if no_bsn:
        contained.append({"resourceType": "Patient", "id": "patient",
                          "name": [{"family": PATIENT_NAME, "given": ["Fatima"]}],
                          "birthDate": "2011-04-03",
                          "address": [{"line": ["Dorpsstraat 12"], "city": "Groningen"}]})
        resource["subject"] = {"reference": "#patient"}
    elif consent:
        contained.append({"resourceType": "Patient", "id": "patient", "birthDate": birth_date,
                          "identifier": [{"system": BSN, "value": bsn}],
                          "telecom": [{"system": "phone", "value": "0612345678"}]})
        resource["subject"] = {"reference": "#patient"}
    if consent:
        contained += referral_consent(consent)
        resource["supportingInfo"] = [{"reference": "#consent"}]
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


def referral_consent(grantor: str) -> list[dict[str, Any]]:
    """The contained Consent to a referral, and for a parent's consent the RelatedPerson."""
    performer = "#patient" if grantor == "self" else "#parent"
    resources: list[dict[str, Any]] = [{
        "resourceType": "Consent", "id": "consent", "status": "active",
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                              "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": "#patient"}, "performer": [{"reference": performer}],
        "provision": {"type": "permit", "purpose": [
            {"system": ACTIVITY_SYSTEM, "code": "gp-referral-to-wijkteam"}]}}]
    if grantor == "parent":
        resources.append({"resourceType": "RelatedPerson", "id": "parent",
                          "patient": {"reference": "#patient"},
                          "relationship": [{"coding": [{"system": ROLE_CODE_SYSTEM,
                                                        "code": "MTH"}]}]})
    return resources


def subscription(endpoint: str, criteria: str = "Task", **channel: Any) -> dict[str, Any]:
    return {"resourceType": "Subscription", "status": "requested", "reason": "feedback",
            "criteria": criteria,
            "channel": {"type": "rest-hook", "endpoint": endpoint,
                        "payload": "application/fhir+json", **channel}}


CATEGORY_SYSTEM = "https://wijkgateway.nl/fhir/CodeSystem/data-category"
ROLE_SYSTEM = "https://wijkgateway.nl/fhir/NamingSystem/recipient-role"


def patient(bsn: str = VALID_BSNS[1], birth_date: str = ADULT_BIRTH_DATE) -> dict[str, Any]:
    return {"resourceType": "Patient", "identifier": [{"system": BSN, "value": bsn}],
            "birthDate": birth_date}


def related_person(patient_ref: str, code: str = "MTH") -> dict[str, Any]:
    return {"resourceType": "RelatedPerson", "patient": {"reference": patient_ref},
            "relationship": [{"coding": [{"system": ROLE_CODE_SYSTEM, "code": code}]}]}


def consent_resource(patient_ref: str, *, performer: str | None = None,
            activity: str = "gp-referral-to-wijkteam", verdict: str = "permit",
            organization: str | None = None, role: str | None = None,
            categories: tuple[str, ...] = (), start: str | None = None,
            end: str | None = None) -> dict[str, Any]:
    """A Consent (permit) or objection (deny) as a team's system records it."""
    provision: dict[str, Any] = {"type": verdict,
                                 "purpose": [{"system": ACTIVITY_SYSTEM, "code": activity}]}
    if organization or role:
        reference = ({"reference": f"Organization/{organization}"} if organization
                     else {"identifier": {"system": ROLE_SYSTEM, "value": role}})
        provision["actor"] = [{"role": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
            "code": "IRCP"}]}, "reference": reference}]
    if categories:
        provision["code"] = [{"coding": [{"system": CATEGORY_SYSTEM, "code": c}]}
                             for c in categories]
    if start or end:
        provision["period"] = {k: v for k, v in (("start", start), ("end", end)) if v}
    return {"resourceType": "Consent", "status": "active",
            "scope": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                "code": "patient-privacy"}]},
            "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
            "patient": {"reference": patient_ref},
            "performer": [{"reference": performer or patient_ref}], "provision": provision}
