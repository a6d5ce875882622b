"""The GP adapter turns a ServiceRequest into the canonical Referral."""

from __future__ import annotations

from datetime import date

import pytest

from adapters import InvalidMessage, get_adapter
from schemas import Identifier, Subject
from tests.support.samples import REFERRAL_SYSTEM, service_request

ADAPTER = get_adapter("gp-referral")


def test_bsn_by_logical_reference() -> None:
    referral = ADAPTER.parse(service_request(identifier="r-1"))
    assert referral.subject == Subject(bsn="111222333")
    assert referral.consent_index is None
    assert (referral.requester_agb, referral.team_id, referral.referrer_type) == \
        ("01234567", "wijkteam-noord", "02")
    assert referral.identifier == Identifier(system=REFERRAL_SYSTEM, value="r-1")


def test_contained_patient_and_practitioner_role() -> None:
    referral = ADAPTER.parse(service_request(no_bsn=True, contained_requester=True))
    assert referral.subject == Subject(has_demographics=True, birth_date=date(2011, 4, 3))
    assert referral.requester_agb == "01234567"


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


def test_render_returns_the_source_resource() -> None:
    resource = service_request()
    assert ADAPTER.render(ADAPTER.parse(resource)) == resource


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
