"""The GP adapter turns a ServiceRequest into the canonical Referral."""

from __future__ import annotations

from datetime import date

import pytest

from adapters import InvalidMessage, get_adapter
from schemas import Identifier, Subject
from tests.support.samples import AGB, PATIENT_NAME, REFERRAL_SYSTEM, service_request

ADAPTER = get_adapter("gp-referral")


def test_bsn_by_logical_reference() -> None:
    referral = ADAPTER.parse(service_request(identifier="r-1"))
    assert referral.subject == Subject(bsn="111222333")
    assert referral.consent_index is None
    assert (referral.requester, referral.team_id, referral.referrer_type) == \
        ("agb:01234567", "wijkteam-noord", "02")
    assert referral.identifier == Identifier(system=REFERRAL_SYSTEM, value="r-1")


def test_contained_patient_and_practitioner_role() -> None:
    referral = ADAPTER.parse(service_request(no_bsn=True, contained_requester=True))
    assert referral.subject == Subject(has_demographics=True, birth_date=date(2011, 4, 3),
                                       family_name=PATIENT_NAME, given_name="Fatima")
    assert referral.requester == "agb:01234567"


def test_oid_systems_are_accepted() -> None:
    resource = service_request()
    resource["subject"]["identifier"]["system"] = "urn:oid:2.16.840.1.113883.2.4.6.3"
    resource["requester"]["identifier"]["system"] = "urn:oid:2.16.840.1.113883.2.4.6.1"
    assert ADAPTER.parse(resource).subject.bsn == "111222333"


def test_all_problems_are_reported_at_once() -> None:
    resource = service_request(bsn="123456789", agb="12")
    resource.pop("performer")
    with pytest.raises(InvalidMessage) as raised:
        ADAPTER.parse(resource)
    assert [i.expression for i in raised.value.issues] == [
        "ServiceRequest.subject.identifier.value", "ServiceRequest.requester.identifier.value",
        "ServiceRequest.performer"]
    assert "123456789" not in str(raised.value)


def test_contained_consent_referenced_from_supporting_info() -> None:
    referral = ADAPTER.parse(service_request(consent="self", birth_date="2013-06-01"))
    assert referral.subject == Subject(bsn="111222333", birth_date=date(2013, 6, 1))
    assert referral.resource["contained"][referral.consent_index]["resourceType"] == "Consent"


def test_two_contained_consents_are_refused() -> None:
    resource = service_request(consent="self")
    resource["contained"].append({**resource["contained"][1], "id": "consent2"})
    resource["supportingInfo"].append({"reference": "#consent2"})
    with pytest.raises(InvalidMessage) as raised:
        ADAPTER.parse(resource)
    assert [i.expression for i in raised.value.issues] == ["ServiceRequest.supportingInfo"]


UZI = "http://fhir.nl/fhir/NamingSystem/uzi-nr-pers"
URA = "http://fhir.nl/fhir/NamingSystem/ura"
AGB_OID, UZI_OID, URA_OID = ("urn:oid:2.16.840.1.113883.2.4.6.1", "urn:oid:2.16.528.1.1007.3.1",
                             "urn:oid:2.16.528.1.1007.3.3")


def _role(**role: object) -> dict:
    """A referral whose requester is a contained nl-core PractitionerRole (plus resources)."""
    resource = service_request()
    extra = role.pop("contained", [])
    resource["contained"] = [{"resourceType": "PractitionerRole", "id": "role", **role}, *extra]
    resource["requester"] = {"reference": "#role", "type": "PractitionerRole"}
    return resource


def _ident(system: str, value: str) -> dict:
    return {"identifier": {"system": system, "value": value}}


PRACTITIONER = {"resourceType": "Practitioner", "id": "gp", "identifier": [
    {"system": UZI, "value": "900012345"}, {"system": AGB_OID, "value": "01234567"}]}
PRACTICE = {"resourceType": "Organization", "id": "practice", "identifier": [
    {"system": URA, "value": "87654321"}, {"system": AGB, "value": "01056789"}]}

# shape -> (requester, requester's practice)
REQUESTERS = {
    "role with contained practitioner and organization": (
        _role(practitioner={"reference": "#gp"}, organization={"reference": "#practice"},
              contained=[PRACTITIONER, PRACTICE]), ("agb:01234567", "agb:01056789")),
    "role with logical UZI (OID) and URA (OID)": (
        _role(practitioner=_ident(UZI_OID, "900012345"), organization=_ident(URA_OID, "87654321")),
        ("uzi:900012345", "ura:87654321")),
    "role with its practice only": (
        _role(practitioner={"display": "POH"}, organization=_ident(URA, "87654321")),
        (None, "ura:87654321")),
    "logical Practitioner by UZI": (
        {**service_request(), "requester": {"type": "Practitioner", **_ident(UZI, "900012345")}},
        ("uzi:900012345", None)),
}


@pytest.mark.parametrize("shape", REQUESTERS, ids=list(REQUESTERS))
def test_nl_core_requesters(shape: str) -> None:
    resource, expected = REQUESTERS[shape]
    referral = ADAPTER.parse(resource)
    assert (referral.requester, referral.requester_organization) == expected


@pytest.mark.parametrize(("identifier", "expected"), [
    (_ident(URA, "20000001"), "ura:20000001"), (_ident(AGB_OID, "03000001"), "agb:03000001")],
    ids=["URA", "AGB OID"])
def test_team_by_logical_identifier(identifier: dict, expected: str) -> None:
    referral = ADAPTER.parse({**service_request(), "performer": [identifier]})
    assert (referral.team_id, referral.team_identifier) == (None, expected)


# shape -> expressions of the issues
BAD_REQUESTERS = {
    "UZI of 8 digits in a contained Practitioner": (
        _role(practitioner={"reference": "#gp"}, contained=[
            {**PRACTITIONER, "identifier": [{"system": UZI, "value": "90001234"}]}]),
        ["ServiceRequest.contained[1].identifier[0].value"]),
    "bad personal AGB beside a good UZI, and a bad URA": (
        _role(practitioner={"reference": "#gp"}, organization=_ident(URA, "8765432"),
              contained=[{**PRACTITIONER, "identifier": [
                  {"system": UZI, "value": "900012345"}, {"system": AGB, "value": "0123456x"}]}]),
        ["ServiceRequest.contained[1].identifier[1].value",
         "ServiceRequest.contained[0].organization.identifier.value"]),
    "practitioner pointing at an Organization": (
        _role(practitioner={"reference": "#practice"}, contained=[PRACTICE]),
        ["ServiceRequest.contained[0].practitioner.reference"]),
    "practitioner pointing at nothing": (
        _role(practitioner={"reference": "#nobody"}),
        ["ServiceRequest.contained[0].practitioner.reference"]),
    "role without any AGB, UZI or URA": (
        _role(practitioner={"display": "dr. X"}, organization={"display": "Praktijk"}),
        ["ServiceRequest.requester"]),
}


@pytest.mark.parametrize("shape", BAD_REQUESTERS, ids=list(BAD_REQUESTERS))
def test_bad_requesters_name_the_element(shape: str) -> None:
    resource, expressions = BAD_REQUESTERS[shape]
    with pytest.raises(InvalidMessage) as raised:
        ADAPTER.parse(resource)
    assert [i.expression for i in raised.value.issues] == expressions


def test_a_bad_uzi_is_named_with_its_rule_not_its_value() -> None:
    resource = {**service_request(),
                "requester": {"type": "Practitioner", **_ident(UZI_OID, "90001234")}}
    with pytest.raises(InvalidMessage) as raised:
        ADAPTER.parse(resource)
    assert [(i.expression, i.message, i.code) for i in raised.value.issues] == [
        ("ServiceRequest.requester.identifier.value", "not a valid UZI number (9 digits)",
         "value")]
    assert "90001234" not in str(raised.value)
