"""Two FHIR JSON rules fhir.resources leaves to us, refused at the boundary naming each element:
no null, and no modifier extension the gateway cannot honour."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.servicerequest import ServiceRequest

from adapters.base import InvalidMessage
from adapters.fhir_validation import validate_resource


def _expressions(document: dict) -> list[str]:
    with pytest.raises(InvalidMessage) as refused:
        validate_resource(Patient, document)
    assert refused.value.status == 422
    return [issue.expression for issue in refused.value.issues]


def test_null_elements_are_named() -> None:
    document = {"resourceType": "Patient", "birthDate": None,
                "name": [{"family": "X", "given": [None]}, None],
                "extension": [{"url": "urn:x", "valueString": None}]}
    assert _expressions(document) == ["Patient.birthDate", "Patient.extension[0].valueString",
                                      "Patient.name[0].given[0]", "Patient.name[1]"]


def test_null_in_a_primitive_array_with_extensions_is_allowed() -> None:
    document = {"resourceType": "Patient", "name": [{
        "given": [None, "B"],
        "_given": [{"extension": [{"url": "urn:x", "valueString": "a"}]}, None]}]}
    assert validate_resource(Patient, document).name[0].given == [None, "B"]


def test_null_twin_itself_is_refused() -> None:
    assert _expressions({"resourceType": "Patient", "_birthDate": None}) == \
        ["Patient._birthDate"]


def test_modifier_extensions_are_refused_wherever_they_are() -> None:
    ext = [{"url": "http://nictiz.nl/fhir/StructureDefinition/ext-x", "valueBoolean": False}]
    document = {"resourceType": "Patient", "modifierExtension": ext,
                "contact": [{"modifierExtension": ext}], "extension": ext}
    assert _expressions(document) == ["Patient.contact[0].modifierExtension",
                                      "Patient.modifierExtension"]


@pytest.mark.parametrize(("document", "expression"), [
    ({"resourceType": "ServiceRequest", "status": "active", "subject": {"reference": "#p"}},
     "ServiceRequest.intent"),  # a required primitive: fhir.resources' own error type
    ({"resourceType": "ServiceRequest", "status": "active", "intent": "order"},
     "ServiceRequest.subject"),  # a required complex element: pydantic's "missing"
], ids=["primitive", "complex"])
def test_a_missing_required_element_is_coded_required(document: dict, expression: str) -> None:
    with pytest.raises(InvalidMessage) as refused:
        validate_resource(ServiceRequest, document)
    assert [(i.expression, i.message, i.code) for i in refused.value.issues] == [
        (expression, "required element is missing", "required")]


def test_a_wrong_type_is_coded_structure() -> None:
    with pytest.raises(InvalidMessage) as refused:
        validate_resource(Patient, {"resourceType": "Patient", "active": "yes please"})
    assert [(i.expression, i.code) for i in refused.value.issues] == [
        ("Patient.active", "structure")]
