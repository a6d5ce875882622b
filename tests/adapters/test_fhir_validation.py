"""Two FHIR JSON rules fhir.resources leaves to us, refused at the boundary naming each element:
no null, and no modifier extension the gateway cannot honour."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.patient import Patient

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
