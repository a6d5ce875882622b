"""The adapter port: every external system sits behind one adapter, and only the adapter knows
the system's format.

Contract:
- ``descriptor`` says what the system is: name (the configuration's name for it), version,
  media type of its documents, the inbound message kinds it parses and the outbound resource
  types it renders.
- ``parse(document)`` takes the source system's document, already decoded (from JSON, or by
  the adapter's own ``decode``), and returns the canonical message, or raises
  :class:`InvalidMessage` listing *every* problem found, each naming the element (a
  FHIRPath-like expression, or an XPath for XML). It does no I/O and never echoes values from
  the document in its messages (they may hold a BSN or a name).
- ``decode(body)`` (optional, :class:`Decoder`): an adapter whose documents are not JSON turns
  the request body into the document ``parse`` takes, or raises :class:`InvalidMessage` (400).
- ``render(message, recipient)`` turns a canonical outbound message, already decided and
  minimised for that recipient, into the system's document (a JSON object as a dict, or the
  serialised document as bytes, e.g. XML, sent as is with the descriptor's media type); it
  raises :class:`RenderError` when it cannot (a resource type it does not carry).
- ``check_outbound(document)`` checks a rendered document against the system's schema and
  raises :class:`InvalidMessage` when it does not fit: the gateway sends nothing it has not
  checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from schemas import AGB_SYSTEMS, URA_SYSTEM


@dataclass(frozen=True)
class Issue:
    """One problem in a message. ``code`` is a FHIR issue-type code."""

    expression: str
    message: str
    code: str = "invalid"


class InvalidMessage(Exception):
    """The document cannot be accepted; ``issues`` says why, element by element.
    ``headers``: for the answer (the gateway names the pipeline stage there)."""

    def __init__(self, issues: list[Issue], status: int = 422) -> None:
        super().__init__("; ".join(f"{i.expression}: {i.message}" for i in issues))
        self.issues = issues
        self.status = status
        self.headers: dict[str, str] = {}


class RenderError(Exception):
    """The adapter cannot put this message in its system's format. The message says why
    without any of the message's content (it may hold personal data)."""


# A rendered document: a JSON object, or serialised bytes (XML) sent as they are
Document = dict[str, Any] | bytes


@dataclass(frozen=True)
class AdapterDescriptor:
    """What an adapter is and can do (the enabled ones are listed at start-up).

    ``inbound``: the message kinds ``parse`` accepts; ``outbound``: the canonical resource types
    ``render`` carries. ``endpoint``: the gateway serves ``POST /adapters/{name}/messages`` for
    it (False when the system has a transport of its own, as FHIR REST for the GP referral).
    ``schemas``: files of the adapter's package (paths relative to it) that describe the
    system's documents; the gateway publishes each at ``/adapters/{name}/schemas/{file name}``.
    ``review_after_months``: the system's own limit on a case (the adult unit's six months);
    a case open longer is put up for review, never refused."""

    name: str
    version: str
    description: str
    media_type: str = "application/json"
    inbound: frozenset[str] = field(default_factory=frozenset)
    outbound: frozenset[str] = field(default_factory=frozenset)
    endpoint: bool = True
    schemas: tuple[str, ...] = ()
    review_after_months: int | None = None


@dataclass(frozen=True)
class Recipient:
    """Whom an outbound message is for: an organisation (a team, a practice, a client) in a
    role, as consent decisions name recipients."""

    organization: str
    role: str


@dataclass(frozen=True)
class OutboundMessage:
    """A canonical outbound message: an event about a resource, holding only the elements the
    send-time decision permits this recipient (the gateway's canonical form is FHIR R4B-shaped
    JSON)."""

    event: str
    resource_type: str
    resource_id: str
    content: Mapping[str, Any]


def referral_id(message: OutboundMessage) -> str:
    """The referral a notice is about: the ServiceRequest itself, or a Task's focus."""
    if message.resource_type == "ServiceRequest":
        return message.resource_id
    focus = message.content.get("focus") or {}
    return str(focus.get("reference", "")).removeprefix("ServiceRequest/")


def organization_name(reference: Mapping[str, Any]) -> str:
    """A FHIR reference to an organisation, as the gateway names organisations: agb:/ura:
    and the number, else the identifier's value (a team's id)."""
    identifier = reference.get("identifier") or {}
    system, value = identifier.get("system"), str(identifier.get("value", ""))
    if system in AGB_SYSTEMS:
        return f"agb:{value}"
    if system == URA_SYSTEM:
        return f"ura:{value}"
    return value


class Adapter(Protocol):
    descriptor: AdapterDescriptor

    def parse(self, document: Any) -> Any:
        """Source document -> canonical message, or raise InvalidMessage."""
        ...

    def render(self, message: OutboundMessage, recipient: Recipient) -> Document:
        """Canonical outbound message -> the system's document, or raise RenderError."""
        ...

    def check_outbound(self, document: Document) -> None:
        """Raise InvalidMessage when a rendered document does not fit the system's schema."""
        ...


@runtime_checkable
class Decoder(Protocol):
    """An adapter whose documents are not JSON decodes the body itself (hardened, bounded);
    the gateway decodes JSON for the others."""

    def decode(self, body: bytes) -> Any:
        """Request body -> the document ``parse`` takes, or raise InvalidMessage (400)."""
        ...
