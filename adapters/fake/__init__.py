"""The fake registry system: an in-memory stand-in for a youth or adult unit's records system,
speaking small JSON messages (``parse``). It serves the tests and the worked example of adding
a system (docs/adapters.md): this package plus ``fake`` in ``WIJKGATEWAY_ADAPTERS``."""

from __future__ import annotations

from typing import Any

from adapters.base import (
    AdapterDescriptor,
    InvalidMessage,
    Issue,
    OutboundMessage,
    Recipient,
    RenderError,
    referral_id,
)
from adapters.fake.parse import KINDS, parse_message
from adapters.registry import register
from schemas.messages import InboundMessage

# What the fake system accepts from the gateway: each kind and its elements (all strings).
OUTBOUND_SCHEMA: dict[str, frozenset[str]] = {
    "referral": frozenset({"kind", "event", "referralId", "status", "for"}),
    "referral-status": frozenset({"kind", "event", "referralId", "status", "for"}),
}
KIND_OF = {"ServiceRequest": "referral", "Task": "referral-status"}


@register
class FakeAdapter:
    descriptor = AdapterDescriptor(
        name="fake",
        version="1",
        description="Fake registry system (tests, docs/adapters.md): register-person, "
                    "register-household, open-case and close-case in; referrals and their "
                    "status out.",
        media_type="application/json",
        inbound=frozenset(KINDS),
        outbound=frozenset(KIND_OF),
    )

    def parse(self, document: dict[str, Any]) -> InboundMessage:
        return parse_message(document)

    def render(self, message: OutboundMessage, recipient: Recipient) -> dict[str, Any]:
        """A referral or its status as a notice: which referral, its status, for whom. The
        fake system fetches anything more over FHIR, as the consent decision permits."""
        kind = KIND_OF.get(message.resource_type)
        if kind is None:
            raise RenderError(f"fake does not carry {message.resource_type}")
        return {"kind": kind, "event": message.event, "referralId": referral_id(message),
                "status": message.content.get("status", "unknown"),
                "for": recipient.organization}

    def check_outbound(self, document: dict[str, Any]) -> None:
        """Every element of the kind's schema present, as a non-empty string; nothing else."""
        allowed = OUTBOUND_SCHEMA.get(document.get("kind", ""))
        if allowed is None:
            raise InvalidMessage([Issue("kind", "not a kind the fake system accepts",
                                        "not-supported")])
        issues = [Issue(name, "required, a non-empty string", "required")
                  for name in sorted(allowed)
                  if not isinstance(document.get(name), str) or not document[name]]
        issues += [Issue(name, "not an element of this kind", "structure")
                   for name in sorted(set(document) - allowed)]
        if issues:
            raise InvalidMessage(issues)
