"""Data minimisation: only permitted elements leave, whatever the resource holds."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from consent import minimise

FIELDS = frozenset({"ServiceRequest.status", "ServiceRequest.subject", "Patient.name"})


def element_paths(resource: dict[str, Any]) -> set[str]:
    found = {f"{resource['resourceType']}.{name}" for name in resource
             if name not in {"resourceType", "id", "meta", "contained"}}
    for contained in resource.get("contained", ()):
        found |= element_paths(contained)
    return found


def test_keeps_permitted_elements_of_the_resource_and_its_contained_resources() -> None:
    resource = {
        "resourceType": "ServiceRequest", "id": "1", "meta": {"versionId": "1"},
        "status": "active", "subject": {"reference": "#p"}, "note": [{"text": "private"}],
        "extension": [{"url": "x", "valueString": "unclassified"}],
        "contained": [
            {"resourceType": "Patient", "id": "p", "name": [{"family": "X"}],
             "telecom": [{"value": "06"}]},
            {"resourceType": "Consent", "id": "c", "status": "active"},
        ],
    }
    assert minimise(resource, FIELDS) == {
        "resourceType": "ServiceRequest", "id": "1", "meta": {"versionId": "1"},
        "status": "active", "subject": {"reference": "#p"},
        "contained": [{"resourceType": "Patient", "id": "p", "name": [{"family": "X"}]}],
    }


names = st.sampled_from(["status", "subject", "note", "name", "telecom", "extension", "code"])
values = st.one_of(st.text(max_size=5), st.lists(st.integers(), max_size=2))
contained = st.builds(lambda rt, body: {"resourceType": rt, "id": "x", **body},
                      st.sampled_from(["Patient", "Consent", "RelatedPerson"]),
                      st.dictionaries(names, values, max_size=4))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(names, values, max_size=6), st.lists(contained, max_size=3),
       st.frozensets(st.sampled_from(sorted(
           f"{t}.{n}" for t in ("ServiceRequest", "Patient", "Consent")
           for n in ("status", "subject", "note", "name", "telecom")))))
def test_no_element_outside_the_fields_survives(body, inner, fields) -> None:
    resource = {"resourceType": "ServiceRequest", "id": "1", **body}
    if inner:
        resource["contained"] = inner
    kept = minimise(resource, fields)
    assert element_paths(kept) == element_paths(resource) & fields
