"""Required code bindings, which fhir.resources does not check: a code outside its value set
is refused naming the element, without repeating the value."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task

from adapters.base import InvalidMessage
from adapters.fhir_validation import validate_resource
from tests.support.samples import service_request

TASK = {"resourceType": "Task", "status": "requested", "intent": "order"}


@pytest.mark.parametrize("model,document,expression", [
    (ServiceRequest, {**service_request(), "intent": "bogus"}, "ServiceRequest.intent"),
    (ServiceRequest, {**service_request(), "priority": "whenever"}, "ServiceRequest.priority"),
    (ServiceRequest, {**service_request(), "status": "ACTIVE"}, "ServiceRequest.status"),
    (Task, {**TASK, "intent": "wish"}, "Task.intent"),
    (Task, {**TASK, "status": "done123456782"}, "Task.status"),
])
def test_a_code_outside_its_required_value_set_is_refused(model: type, document: dict,
                                                          expression: str) -> None:
    with pytest.raises(InvalidMessage) as refused:
        validate_resource(model, document)
    [issue] = refused.value.issues
    assert (refused.value.status, issue.expression, issue.code) == (422, expression,
                                                                    "code-invalid")
    assert "123456782" not in issue.message


def test_codes_of_the_value_sets_pass() -> None:
    assert validate_resource(ServiceRequest, {**service_request(),
                                              "priority": "urgent"}).priority == "urgent"
    assert validate_resource(Task, {**TASK, "priority": "stat"}).priority == "stat"
