"""The youth dossier (ZCD-style, *Zorgcoördinatie dossier*): the youth unit's registration
system, speaking XML in the namespace ``urn:wijkgateway:zcd:1.0`` with the XSD shipped in
``xsd/`` (docs/zcd.md).

In: ``decode(body)`` reads the bytes with a hardened parser and checks them against the XSD
(400, each problem's XPath); ``parse(document)`` makes the canonical message of a ``bericht``
(register a household with who holds parental authority, open or close a youth case with its
case director, a support request, a signal) or a :class:`~schemas.messages.Batch` of a
``bundel`` (422 for what the XSD cannot say). Out: ``render`` makes a ``notificatie`` as UTF-8
XML bytes, and ``check_outbound`` checks it against the same XSD before it leaves."""

from __future__ import annotations

from typing import Any

from adapters.base import (
    AdapterDescriptor,
    Document,
    InvalidMessage,
    Issue,
    OutboundMessage,
    Recipient,
)
from adapters.registry import register
from adapters.zcd.document import BAD_REQUEST, NAMESPACE, VERSION, ZcdDocument, decode
from adapters.zcd.parse import KINDS, parse_document
from adapters.zcd.render import KINDS as OUTBOUND_KINDS
from adapters.zcd.render import check_notice, render_notice
from schemas.messages import Batch, InboundMessage

MEDIA_TYPE = "application/xml"

__all__ = ["MEDIA_TYPE", "NAMESPACE", "VERSION", "ZcdAdapter", "ZcdDocument"]


@register
class ZcdAdapter:
    descriptor = AdapterDescriptor(
        name="zcd",
        version=VERSION,
        description="Youth dossier (ZCD-style XML, urn:wijkgateway:zcd:1.0, XSD in "
                    "adapters/zcd/xsd): households with parental authority, youth cases with "
                    "their case director, support requests and signals in, one or a bundle; "
                    "notices of referrals, their status and who else helps out.",
        media_type=MEDIA_TYPE,
        inbound=frozenset(KINDS.values()),
        outbound=frozenset(OUTBOUND_KINDS),
        # published side by side, so the message schema's relative import resolves
        schemas=("xsd/zcd-bericht.xsd", "xsd/basisschema.xsd"),
    )

    def decode(self, body: bytes) -> ZcdDocument:
        """XML bytes -> a document read safely and checked against the XSD (400)."""
        return decode(body)

    def parse(self, document: Any) -> InboundMessage | Batch:
        """A decoded document (or its bytes) -> a canonical message, or a Batch (422)."""
        if isinstance(document, bytes):
            document = decode(document)
        if not isinstance(document, ZcdDocument):
            raise InvalidMessage([Issue("/", "not a zcd document: decode the XML first",
                                        "structure")], status=BAD_REQUEST)
        return parse_document(document)

    def render(self, message: OutboundMessage, recipient: Recipient) -> bytes:
        return render_notice(message, recipient)

    def check_outbound(self, document: Document) -> None:
        check_notice(document)
