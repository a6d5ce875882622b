"""GP referral module: a GP system posts a FHIR R4B ServiceRequest and follows a Task; team
systems receive the referral. Both speak FHIR R4B rest-hooks, so this adapter renders for
every FHIR recipient. The gateway's FHIR API is this system's transport too: the resources
clients write there (households as Group, ...) are parsed here as well."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task

from adapters.base import (
    AdapterDescriptor,
    InvalidMessage,
    Issue,
    OutboundMessage,
    Recipient,
    RenderError,
)
from adapters.fhir_validation import validate_resource
from adapters.gp_referral.consent import parse_consent
from adapters.gp_referral.group import parse_group
from adapters.gp_referral.parse import parse_service_request
from adapters.gp_referral.persons import parse_patient, parse_related_person
from adapters.registry import register

FHIR_JSON = "application/fhir+json"
OUTBOUND_MODELS = {"ServiceRequest": ServiceRequest, "Task": Task, "CarePlan": CarePlan}
# resourceType -> its parser, each returning the canonical claim (schemas)
PARSERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "ServiceRequest": parse_service_request,
    "Consent": parse_consent,
    "Group": parse_group,
    "Patient": parse_patient,
    "RelatedPerson": parse_related_person,
}


@register
class GpReferralAdapter:
    descriptor = AdapterDescriptor(
        name="gp-referral",
        version="1",
        description="FHIR R4B ServiceRequest in (GP referral), ServiceRequest and Task status "
                    "feedback out (rest-hooks); the FHIR API's writes in.",
        media_type=FHIR_JSON,
        inbound=frozenset(PARSERS),
        outbound=frozenset(OUTBOUND_MODELS),
        endpoint=False,  # received at /fhir/{resourceType}
    )

    def parse(self, document: dict[str, Any]) -> Any:
        """The resource as its canonical claim (a ServiceRequest: ``schemas.Referral``)."""
        resource_type = document.get("resourceType")
        parser = PARSERS.get(resource_type) if isinstance(resource_type, str) else None
        if parser is None:
            raise InvalidMessage([Issue("resourceType", "gp-referral receives only "
                                        f"{', '.join(sorted(PARSERS))}", "not-supported")],
                                 status=400)
        return parser(document)

    def render(self, message: OutboundMessage, recipient: Recipient) -> dict[str, Any]:
        """The canonical form is FHIR R4B already: the permitted resource as it is."""
        if message.resource_type not in OUTBOUND_MODELS:
            raise RenderError(f"gp-referral does not carry {message.resource_type}")
        return dict(message.content)

    def check_outbound(self, document: dict[str, Any]) -> None:
        """A valid R4B ServiceRequest, Task or CarePlan (fhir.resources, with the required
        bindings)."""
        model = OUTBOUND_MODELS.get(document.get("resourceType", ""))
        if model is None:
            raise InvalidMessage([Issue("resourceType", "gp-referral sends only "
                                        "ServiceRequest, Task and CarePlan", "not-supported")])
        validate_resource(model, document)
