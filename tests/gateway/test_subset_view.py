"""A minimised resource stays valid FHIR R4B: required elements present but identifying no
one, no reference to a contained resource that is gone, the SUBSETTED tag, no profile claim."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fhir.resources.R4B.servicerequest import ServiceRequest
from hypothesis import given, settings
from hypothesis import strategies as st

from consent import minimise
from gateway.api.processing_activities import load_register
from gateway.fhir.subset import MASKED, subset_view
from tests.support.samples import service_request

REGISTER = load_register()
SHAPES = {
    "by BSN": service_request(),
    "consent by the resident": service_request(consent="self"),
    "consent by a parent": service_request(consent="parent", birth_date="2019-05-17"),
    "no BSN": service_request(no_bsn=True),
    "contained requester, Dutch profile": service_request(contained_requester=True,
                                                          dutch_profile=True),
    **{f"nl-core {path.stem}": json.loads(path.read_text())
       for path in (Path(__file__).parents[1] / "fixtures" / "referrals").glob("*.json")},
}
CATEGORIES = sorted(REGISTER.categories)


def _references(value: Any) -> list[str]:
    if isinstance(value, dict):
        own = [value["reference"]] if isinstance(value.get("reference"), str) else []
        return own + [r for v in value.values() for r in _references(v)]
    if isinstance(value, list):
        return [r for v in value for r in _references(v)]
    return []


def _seen(resource: dict[str, Any], categories: tuple[str, ...]) -> dict[str, Any]:
    fields = REGISTER.fields_for(frozenset(categories)) | REGISTER.envelope
    return subset_view(resource, minimise(resource, fields))


@settings(max_examples=120, deadline=None, derandomize=True, database=None)
@given(st.sampled_from(sorted(SHAPES)), st.sets(st.sampled_from(CATEGORIES)))
def test_every_minimised_referral_is_valid_r4b(shape: str, categories: set[str]) -> None:
    seen = _seen(SHAPES[shape], tuple(sorted(categories)))
    ServiceRequest.model_validate(seen)  # raises on a missing required element
    ids = {c["id"] for c in seen.get("contained", [])}
    local = {r[1:] for r in _references(seen) if r.startswith("#") and r != "#"}
    assert local <= ids  # nothing dangles, also inside contained resources
    assert ids <= local  # nothing contained that nothing refers to (dom-3)
    if seen != SHAPES[shape]:
        assert [t["code"] for t in seen["meta"]["tag"]] == ["SUBSETTED"]
        assert "profile" not in seen["meta"]
    as_sent = {c["id"]: c for c in SHAPES[shape].get("contained", [])}
    for contained in seen.get("contained", []):
        if contained != as_sent[contained["id"]]:
            assert "profile" not in contained.get("meta", {})  # reduced: claims no profile


def test_the_envelope_alone_masks_the_subject() -> None:
    seen = _seen(SHAPES["consent by the resident"], ())
    assert seen["subject"] == MASKED
    assert "contained" not in seen and "reasonCode" not in seen


def test_a_reference_to_a_contained_resource_that_is_gone_is_masked() -> None:
    resource = SHAPES["contained requester, Dutch profile"]
    kept = {k: v for k, v in resource.items() if k != "contained"}
    assert subset_view(resource, kept)["requester"] == MASKED


def test_a_contained_resource_keeps_what_it_refers_to_or_masks_it() -> None:
    role = {"resourceType": "PractitionerRole", "id": "role",
            "practitioner": {"reference": "#gp"}, "organization": {"reference": "#practice"},
            "meta": {"profile": ["http://example.org/role"]}}
    practice = {"resourceType": "Organization", "id": "practice", "name": "Praktijk"}
    resource = {**service_request(), "requester": {"reference": "#role"},
                "contained": [role, {"resourceType": "Practitioner", "id": "gp"}, practice,
                              {"resourceType": "Basic", "id": "loose",
                               "code": {"text": "x"}}]}
    kept = {**resource, "contained": [role, practice, resource["contained"][3]]}  # gp gone
    seen = subset_view(resource, kept)
    assert [c["id"] for c in seen["contained"]] == ["role", "practice"]  # 'loose' dropped
    assert seen["contained"][0]["practitioner"] == MASKED  # the Practitioner is gone
    assert seen["contained"][0]["organization"] == {"reference": "#practice"}  # reached via role
    assert "meta" not in seen["contained"][0]  # reduced: its profile claim is gone


def test_nothing_taken_away_changes_nothing() -> None:
    task = {"resourceType": "Task", "id": "t", "status": "requested", "intent": "order",
            "meta": {"profile": ["http://example.org/task"]}}
    assert subset_view(task, dict(task)) == task  # no tag, the profile still claimed
