"""The last step before a message leaves: the receiving system's adapter renders it, after the
send-time decision, and checks the result against that system's schema. What cannot be rendered
or does not fit is not sent; the reason names the failure, never the message's content."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import orjson

from adapters import (
    DEFAULT_SYSTEM,
    Adapter,
    Document,
    InvalidMessage,
    OutboundMessage,
    Recipient,
    RenderError,
    UnknownAdapter,
    get_adapter,
)
from gateway.platform.db.models import OAuthClient, OutboxMessage

MAX_REASON = 100  # DeliveryAttempt.error


class Undeliverable(Exception):
    """The receiving system's adapter cannot render the message, or the result does not fit
    its schema. ``reason`` is short and holds no personal data (element paths at most)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason[:MAX_REASON]


@dataclass(frozen=True)
class Rendered:
    """The document as the system takes it: JSON to serialise, or bytes (XML) sent as they
    are, so the signature covers exactly what the adapter made and checked."""

    document: Document
    media_type: str

    def body(self) -> bytes:
        return self.document if isinstance(self.document, bytes) else \
            orjson.dumps(self.document)


def system_of(client: OAuthClient) -> str:
    """The adapter that speaks for this client."""
    return client.system or DEFAULT_SYSTEM


def render_for(client: OAuthClient, message: OutboxMessage, payload: dict[str, Any],
               enabled: Collection[str]) -> Rendered:
    """``payload`` (decided and minimised for this client) in the client's system's format,
    checked against its schema; raises :class:`Undeliverable`. ``enabled``: the configured
    adapters (a system switched off receives nothing)."""
    system = system_of(client)
    try:
        if system not in enabled:
            raise UnknownAdapter(system)
        adapter: Adapter = get_adapter(system)
    except UnknownAdapter:
        raise Undeliverable(f"render_failed: adapter {system} is not enabled") from None
    outbound = OutboundMessage(message.event_type, message.resource_type, message.resource_id,
                               payload)
    try:
        document = adapter.render(outbound, Recipient(client.team_id or client.id, client.role))
    except RenderError:
        raise Undeliverable(f"render_failed: {adapter.descriptor.name} cannot render "
                            f"{message.resource_type}") from None
    try:
        adapter.check_outbound(document)
    except InvalidMessage as error:
        where = ", ".join(issue.expression for issue in error.issues[:3])
        raise Undeliverable(f"schema_invalid: {where}") from None
    return Rendered(document, adapter.descriptor.media_type)
