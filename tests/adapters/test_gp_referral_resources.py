"""The GP adapter parses what clients write to the FHIR API into canonical claims, naming
every problem of a resource at once."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from adapters import InvalidMessage, get_adapter
from schemas import (
    BSN_SYSTEM,
    CATEGORY_SYSTEM,
    ROLE_CODE_SYSTEM,
    ConsentClaim,
    GroupClaim,
    GroupMemberClaim,
    Identifier,
    PersonClaim,
    Reference,
    RepresentationClaim,
)
from schemas.household import MEMBER_ROLE_EXTENSION, REPRESENTATION_SYSTEM
from tests.support.samples import consent_resource, service_request

ADAPTER = get_adapter("gp-referral")
HOUSEHOLD_ID = Identifier(system="https://example.org/households", value="h-1")


def _role(code: str) -> dict[str, Any]:
    return {"url": MEMBER_ROLE_EXTENSION, "valueCode": code}


def _problems(document: dict[str, Any]) -> list[str]:
    with pytest.raises(InvalidMessage) as caught:
        ADAPTER.parse(document)
    return [issue.expression for issue in caught.value.issues]


def test_a_group_is_a_household_claim() -> None:
    claim = ADAPTER.parse({
        "resourceType": "Group", "type": "person", "actual": True,
        "identifier": [HOUSEHOLD_ID.model_dump()],
        "member": [{"entity": {"reference": "Patient/p-1"}, "extension": [_role("parent")],
                    "period": {"start": "2020-01-01"}},
                   {"entity": {"identifier": {"system": BSN_SYSTEM, "value": "111222333"}},
                    "extension": [_role("child")]}]})
    assert claim == GroupClaim(identifiers=(HOUSEHOLD_ID,), members=(
        GroupMemberClaim(person_id="p-1", role="parent", start=date(2020, 1, 1)),
        GroupMemberClaim(person=PersonClaim(bsn="111222333", local=None), role="child")))


def test_every_problem_of_a_group_is_named() -> None:
    assert _problems({
        "resourceType": "Group", "type": "animal", "actual": False,
        "identifier": [{"value": "h-1"}],
        "member": [{"entity": {"reference": "Organization/o-1"}},
                   {"entity": {"identifier": {"system": BSN_SYSTEM, "value": "123456789"}},
                    "extension": [_role("child"), _role("parent")],
                    "period": {"start": "2020-01", "end": "2021-01-01T10:00:00+01:00"}}]}) == [
        "Group.type", "Group.actual", "Group.identifier[0]", "Group.member[0].entity",
        "Group.member[0].extension", "Group.member[1].entity.identifier.value",
        "Group.member[1].extension", "Group.member[1].period.start", "Group.member[1].period.end"]


def test_another_resource_type_is_refused() -> None:
    assert _problems({"resourceType": "Basic"}) == ["resourceType"]


def test_a_patient_is_a_bsn_and_a_birth_date() -> None:
    assert ADAPTER.parse({"resourceType": "Patient", "birthDate": "2015-04-01",
                          "identifier": [{"system": BSN_SYSTEM, "value": "111222333"}]}) == \
        PersonClaim(bsn="111222333", local=None, birth_date=date(2015, 4, 1))


def test_every_problem_of_a_patient_is_named() -> None:
    assert _problems({"resourceType": "Patient", "birthDate": "2015-04",
                      "identifier": [{"system": BSN_SYSTEM, "value": "123456789"}]}) == [
        "Patient.identifier[0].value", "Patient.birthDate"]


def test_a_related_person_is_a_representation_claim() -> None:
    claim = ADAPTER.parse({
        "resourceType": "RelatedPerson", "patient": {"reference": "Patient/p-1"},
        "identifier": [{"system": "http://fhir.nl/fhir/NamingSystem/ura", "value": "12345678"}],
        "relationship": [{"coding": [{"system": REPRESENTATION_SYSTEM, "code": "mentor"}]}],
        "period": {"start": "2026-01-01", "end": "2026-12-31"}})
    assert claim == RepresentationClaim(
        patient=Reference(reference="Patient/p-1"), representation="mentor",
        organization="ura:12345678", start=datetime(2026, 1, 1, tzinfo=UTC),
        end=datetime(2027, 1, 1, tzinfo=UTC))


def test_every_problem_of_a_related_person_is_named() -> None:
    assert _problems({
        "resourceType": "RelatedPerson", "patient": {"reference": "Patient/p-1"},
        "identifier": [{"system": BSN_SYSTEM, "value": "123456789"}],
        "relationship": [{"coding": [{"system": ROLE_CODE_SYSTEM, "code": "FRND"}]}],
        "period": {"start": "2026-01"}}) == [
        "RelatedPerson.identifier[0].value", "RelatedPerson.relationship",
        "RelatedPerson.period.start"]


def test_a_consent_is_a_consent_claim() -> None:
    claim = ADAPTER.parse(consent_resource("Patient/p-1", role="wijkteam",
                                           categories=("contact", "situation"),
                                           start="2026-01-01"))
    assert claim == ConsentClaim(
        patient=Reference(reference="Patient/p-1"),
        performers=(Reference(reference="Patient/p-1"),), verdict="permit",
        activity_id="gp-referral-to-wijkteam", recipient_role="wijkteam",
        categories=(("contact",), ("situation",)), start=datetime(2026, 1, 1, tzinfo=UTC))
    assert claim.all_categories == {"contact", "situation"}


def test_every_problem_of_a_consent_is_named() -> None:
    consent = consent_resource("Patient/p-1", role="wijkteam", start="2026-05")
    consent["status"] = "proposed"
    consent["provision"]["actor"][0]["reference"] = {"reference": "Practitioner/x"}
    consent["provision"] |= {
                             "code": [{"coding": [{"system": CATEGORY_SYSTEM}]}],
                             "action": [{"text": "access"}]}
    assert _problems(consent) == [
        "Consent.status", "Consent.provision.actor[0].reference", "Consent.provision.code[0]",
        "Consent.provision.period.start", "Consent.provision.action"]


def test_a_referral_carries_its_consent_and_who_gave_it() -> None:
    referral = ADAPTER.parse(service_request(consent="parent"))
    assert referral.consent is not None
    assert referral.consent.activity_id == "gp-referral-to-wijkteam"
    [parent] = referral.consent_grantors
    assert parent is not None and parent.relationship is not None


def test_a_referrals_consent_is_about_its_subject() -> None:
    resource = service_request(consent="self")
    consent = next(c for c in resource["contained"] if c["resourceType"] == "Consent")
    consent["patient"] = {"reference": "Patient/someone-else"}
    assert "ServiceRequest.contained[1].patient" in _problems(resource)
