"""GP referral module: a GP system posts a FHIR R4B ServiceRequest and follows a Task."""

from __future__ import annotations

from typing import Any

from adapters.base import AdapterDescriptor
from adapters.gp_referral.parse import parse_service_request
from adapters.registry import register
from schemas import Referral


@register
class GpReferralAdapter:
    descriptor = AdapterDescriptor(
        name="gp-referral",
        version="1",
        description="FHIR R4B ServiceRequest in (GP referral), Task status feedback out.",
        capabilities=frozenset({"inbound:ServiceRequest", "outbound:Task"}),
    )

    def parse(self, document: dict[str, Any]) -> Referral:
        return parse_service_request(document)

    def render(self, canonical: Referral) -> dict[str, Any]:
        return dict(canonical.resource)
