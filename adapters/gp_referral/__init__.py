"""GP referral module: a GP system posts a FHIR R4B ServiceRequest and follows a Task; team
systems receive the referral. Both speak FHIR R4B rest-hooks, so this adapter renders for
every FHIR recipient."""

from __future__ import annotations

from typing import Any

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
from adapters.gp_referral.parse import parse_service_request
from adapters.registry import register
from schemas import Referral

FHIR_JSON = "application/fhir+json"
OUTBOUND_MODELS = {"ServiceRequest": ServiceRequest, "Task": Task}


@register
class GpReferralAdapter:
    descriptor = AdapterDescriptor(
        name="gp-referral",
        version="1",
        description="FHIR R4B ServiceRequest in (GP referral), ServiceRequest and Task status "
                    "feedback out (rest-hooks).",
        media_type=FHIR_JSON,
        inbound=frozenset({"ServiceRequest"}),
        outbound=frozenset(OUTBOUND_MODELS),
        endpoint=False,  # received at /fhir/ServiceRequest
    )

    def parse(self, document: dict[str, Any]) -> Referral:
        return parse_service_request(document)

    def render(self, message: OutboundMessage, recipient: Recipient) -> dict[str, Any]:
        """The canonical form is FHIR R4B already: the permitted resource as it is."""
        if message.resource_type not in OUTBOUND_MODELS:
            raise RenderError(f"gp-referral does not carry {message.resource_type}")
        return dict(message.content)

    def check_outbound(self, document: dict[str, Any]) -> None:
        """A valid R4B ServiceRequest or Task (fhir.resources, with the required bindings)."""
        model = OUTBOUND_MODELS.get(document.get("resourceType", ""))
        if model is None:
            raise InvalidMessage([Issue("resourceType", "gp-referral sends only "
                                        "ServiceRequest and Task", "not-supported")])
        validate_resource(model, document)
