"""Canonical outbound messages -> the youth dossier's ``notificatie`` (UTF-8 XML bytes, the
same namespace and XSD as what it sends), and the check of such a document before it leaves.

A notice names what happened and to what, never the resident's data: the youth dossier reads
more over FHIR, as the consent decision permits.

- ServiceRequest (a referral): ``verwijzing`` with the referral's id and status;
- Task (a referral's status): ``statuswijziging`` with the task's and the referral's id and
  the task's status;
- CareTeam (who else helps): ``betrokkenheid``, one ``betrokkene`` per involved organisation,
  with the day its involvement started.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from adapters.base import (
    Document,
    InvalidMessage,
    Issue,
    OutboundMessage,
    Recipient,
    RenderError,
    referral_id,
)
from adapters.zcd.document import (
    BAD_REQUEST,
    NAMESPACE,
    OUTBOUND_ROOT,
    PREFIX,
    VERSION,
    check_root,
    read,
    schema_issues,
)
from schemas import AGB_SYSTEMS, URA_SYSTEM

KINDS = {"ServiceRequest": "verwijzing", "Task": "statuswijziging", "CareTeam": "betrokkenheid"}
_Z = f"{{{NAMESPACE}}}"


def render_notice(message: OutboundMessage, recipient: Recipient) -> bytes:
    kind = KINDS.get(message.resource_type)
    if kind is None:
        raise RenderError(f"zcd does not carry {message.resource_type}")
    root = etree.Element(f"{_Z}{OUTBOUND_ROOT}", nsmap={PREFIX: NAMESPACE})
    root.set("versie", VERSION)
    _add(root, "gebeurtenis", message.event)
    _add(root, "ontvanger", recipient.organization)
    body = etree.SubElement(root, f"{_Z}{kind}")
    content = message.content
    if kind == "verwijzing":
        _add(body, "verwijzingId", referral_id(message))
        _add(body, "status", str(content.get("status", "unknown")))
    elif kind == "statuswijziging":
        _add(body, "taakId", message.resource_id)
        _add(body, "verwijzingId", referral_id(message))
        _add(body, "status", str(content.get("status", "unknown")))
    else:
        for participant in content.get("participant") or ():
            betrokkene = etree.SubElement(body, f"{_Z}betrokkene")
            _add(betrokkene, "organisatie", _organization(participant.get("member") or {}))
            start = str((participant.get("period") or {}).get("start", ""))[:10]
            if start:
                _add(betrokkene, "sinds", start)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def check_notice(document: Document) -> None:
    """The rendered notice fits the XSD: its root is a ``zcd:notificatie``; else
    InvalidMessage naming each element by its XPath."""
    if not isinstance(document, bytes):
        raise InvalidMessage([Issue("/", "a zcd document is XML bytes", "structure")],
                             status=BAD_REQUEST)
    root = read(document)
    check_root(root, (OUTBOUND_ROOT,))
    issues = schema_issues(root)
    if issues:
        raise InvalidMessage(issues, status=BAD_REQUEST)


def _organization(member: dict[str, Any]) -> str:
    """How the gateway names an organisation: agb:/ura: and its number, else the id."""
    identifier = member.get("identifier") or {}
    system, value = identifier.get("system"), str(identifier.get("value", ""))
    if system in AGB_SYSTEMS:
        return f"agb:{value}"
    if system == URA_SYSTEM:
        return f"ura:{value}"
    return value


def _add(parent: Any, name: str, text: str) -> None:
    etree.SubElement(parent, f"{_Z}{name}").text = text
