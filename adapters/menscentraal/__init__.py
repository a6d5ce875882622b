"""The adult unit's records system (MensCentraal-style): JSON over REST with a published JSON
Schema (``schema/bericht.schema.json`` in, ``schema/uitgaand.schema.json`` out): a client,
the client's support trajectories and requests for provisions of the catalogue in; notices of
referrals and their status, and the youth unit's cases (as consent permits), out. Enable with
``menscentraal`` in ``WIJKGATEWAY_ADAPTERS``."""

from __future__ import annotations

from typing import Any

from adapters.base import (
    AdapterDescriptor,
    InvalidMessage,
    OutboundMessage,
    Recipient,
    RenderError,
    referral_id,
)
from adapters.menscentraal.outbound import render_plan, render_trajectory
from adapters.menscentraal.parse import BODY, parse_message, schema_issues
from adapters.plan_notice import read_plan
from adapters.registry import register
from schemas.messages import InboundMessage

KIND_OF = {"ServiceRequest": "verwijzing", "Task": "verwijzingstatus",
           "EpisodeOfCare": "traject", "CarePlan": "plan"}


@register
class MensCentraalAdapter:
    descriptor = AdapterDescriptor(
        name="menscentraal",
        version="1",
        description="Adult records (MensCentraal-style): client, traject and "
                    "voorzieningaanvraag in (JSON Schema bericht.schema.json); referrals, "
                    "their status, other units' trajectories and the household plan out "
                    "(uitgaand.schema.json).",
        media_type="application/json",
        inbound=frozenset(BODY),
        outbound=frozenset(KIND_OF),
        schemas=("schema/bericht.schema.json", "schema/uitgaand.schema.json",
                 "schema/voorzieningenboek.json"),
        review_after_months=6,  # the adult unit's limit on a support trajectory
    )

    def parse(self, document: dict[str, Any]) -> InboundMessage:
        return parse_message(document)

    def render(self, message: OutboundMessage, recipient: Recipient) -> dict[str, Any]:
        """A referral or its status as a notice: which referral, its status, for which team
        (the system reads more over FHIR, as the consent decision permits); a trajectory
        as the system's own ``traject``."""
        kind = KIND_OF.get(message.resource_type)
        if kind is None:
            raise RenderError(f"menscentraal does not carry {message.resource_type}")
        if kind == "traject":
            return {"soort": kind, "gebeurtenis": message.event, "team": recipient.organization,
                    "traject": render_trajectory(message.resource_id, message.content)}
        if kind == "plan":
            return {"soort": kind, "gebeurtenis": message.event, "team": recipient.organization,
                    "plan": render_plan(read_plan(message.resource_id, message.content))}
        return {"soort": kind, "gebeurtenis": message.event, "verwijzingId": referral_id(message),
                "status": message.content.get("status", "unknown"),
                "team": recipient.organization}

    def check_outbound(self, document: dict[str, Any]) -> None:
        """Against the published outbound schema; nothing leaves that does not fit it."""
        issues = schema_issues("uitgaand", document)
        if issues:
            raise InvalidMessage(issues)
