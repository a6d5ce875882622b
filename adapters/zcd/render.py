"""Canonical outbound messages -> the youth dossier's ``notificatie`` (UTF-8 XML bytes, the
same namespace and XSD as what it sends), and the check of such a document before it leaves.

A notice names what happened and to what, never the resident's data: the youth dossier reads
more over FHIR, as the consent decision permits.

- ServiceRequest (a referral): ``verwijzing`` with the referral's id and status;
- Task (a referral's status): ``statuswijziging`` with the task's and the referral's id and
  the task's status;
- CareTeam (who else helps): ``betrokkenheid``, one ``betrokkene`` per involved organisation,
  with the day its involvement started;
- EpisodeOfCare (another unit's trajectory, sent only as consent permits): ``traject`` with
  whose it is (the gateway's person id and the BSN), whose organisation, its life domains in
  the youth dossier's codes, and its dates;
- CarePlan (the household's plan, as far as the youth dossier may see it): ``plan`` with its
  goals (life domains in the youth dossier's codes), actions, scores and roles.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree

from adapters.base import (
    Document,
    InvalidMessage,
    Issue,
    OutboundMessage,
    Recipient,
    RenderError,
    organization_name,
    referral_id,
)
from adapters.plan_notice import PlanNotice, read_plan
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
from adapters.zcd.parse import DOMAINS

KINDS = {"ServiceRequest": "verwijzing", "Task": "statuswijziging", "CareTeam": "betrokkenheid",
         "EpisodeOfCare": "traject", "CarePlan": "plan"}
PLAN_STATUS = {"draft": "concept", "active": "actief", "completed": "afgerond",
               "revoked": "ingetrokken"}
LEEFGEBIED = {domain: code for code, domain in DOMAINS.items()}  # the gateway's -> the XSD's
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
    elif kind == "traject":
        _trajectory(body, message.resource_id, content)
    elif kind == "plan":
        _plan(body, read_plan(message.resource_id, content))
    else:
        for participant in content.get("participant") or ():
            betrokkene = etree.SubElement(body, f"{_Z}betrokkene")
            _add(betrokkene, "organisatie", organization_name(participant.get("member") or {}))
            start = str((participant.get("period") or {}).get("start", ""))[:10]
            if start:
                _add(betrokkene, "sinds", start)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def _trajectory(body: Any, trajectory_id: str, content: Mapping[str, Any]) -> None:
    """An EpisodeOfCare's elements, in the XSD's order."""
    patient = content.get("patient") or {}
    period = content.get("period") or {}
    _add(body, "trajectId", trajectory_id)
    _add(body, "status", "open" if content.get("status") == "active" else "gesloten")
    _add(body, "persoonId", str(patient.get("reference", "")).removeprefix("Patient/"))
    if bsn := (patient.get("identifier") or {}).get("value"):
        _add(body, "bsn", str(bsn))
    _add(body, "organisatie", organization_name(content.get("managingOrganization") or {}))
    for concept in content.get("type") or ():
        for coding in concept.get("coding") or ():
            _add(body, "leefgebied", LEEFGEBIED.get(coding.get("code"), ""))
    _add(body, "begindatum", str(period.get("start", "")))
    if "end" in period:
        _add(body, "einddatum", str(period["end"]))


def _plan(body: Any, plan: PlanNotice) -> None:
    """A plan's elements, in the XSD's order (persons by the gateway's id)."""
    _add(body, "planId", plan.id)
    _add(body, "versie", plan.version)
    _add(body, "status", PLAN_STATUS[plan.status])
    _add(body, "huishoudenId", plan.household)
    _add(body, "onvolledig", "true" if plan.incomplete else "false")
    for goal in plan.goals:
        doel = etree.SubElement(body, f"{_Z}doel")
        _add(doel, "doelId", goal.id)
        _add(doel, "leefgebied", LEEFGEBIED[goal.life_domain])
        _add(doel, "omschrijving", goal.description)
        if goal.member:
            _add(doel, "persoonId", goal.member)
        _add(doel, "status", goal.status)
        if goal.start:
            _add(doel, "begindatum", goal.start)
        if goal.mandatory:
            _add(doel, "verplichtVan", goal.mandatory)
        if goal.review_due:
            _add(doel, "herbeoordelen", "true")
    for action in plan.actions:
        actie = etree.SubElement(body, f"{_Z}actie")
        for name, value in (("actieId", action.id), ("doelId", action.goal),
                            ("persoonId", action.member), ("uitvoerder", action.organization),
                            ("omschrijving", action.description), ("status", action.status)):
            _add(actie, name, value)
        if action.due:
            _add(actie, "uiterlijk", action.due)
    for score in plan.scores:
        item = etree.SubElement(body, f"{_Z}score")
        for name, value in (("scoreId", score.id), ("doelId", score.goal),
                            ("soort", "start" if score.kind == "start" else "nu"),
                            ("waarde", str(score.value)), ("datum", score.at)):
            _add(item, name, value)
    for role in plan.roles:
        rol = etree.SubElement(body, f"{_Z}rol")
        _add(rol, "rol", role.role)
        _add(rol, "persoonId" if role.member else "partij", role.member or role.party or "")


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


def _add(parent: Any, name: str, text: str) -> None:
    etree.SubElement(parent, f"{_Z}{name}").text = text
