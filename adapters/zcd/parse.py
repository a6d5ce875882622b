"""A checked youth dossier document (``document.ZcdDocument``) -> canonical messages
(schemas.messages): a ``bericht`` is one message, a ``bundel`` a :class:`Batch`.

What the XSD cannot say is checked here, every problem at once, each with its XPath (422):
a birth date in the future, an unborn child with a BSN or birth date, a membership that ends
before it starts, member numbers used twice, parental authority (``gezagdrager``) named on a
member who is not a child or naming a member who is not a parent with a BSN, a message id used
twice in one bundle. No value is ever repeated."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Any, cast

from adapters.base import InvalidMessage, Issue
from adapters.plan_notice import party_of
from adapters.zcd.document import NAMESPACE, ZcdDocument, xpath
from schemas import Identifier, PersonClaim, local_system
from schemas.household import HouseholdClaim, MemberClaim, MemberRole, household_system
from schemas.messages import (
    Batch,
    CaseDirector,
    CloseCase,
    InboundMessage,
    LifeDomain,
    OpenCase,
    ParentalAuthority,
    RegisterHousehold,
    Sensitivity,
    Signal,
    SignalSource,
    SupportRequest,
)
from schemas.plans import (
    ActionClaim,
    ChangePlan,
    GoalClaim,
    PersonRef,
    PlanRole,
    PlanStatus,
    RoleClaim,
    Score,
)

SOURCE = "zcd"
_TAG = f"{{{NAMESPACE}}}"
UNPROCESSABLE = 422
# The message kinds (the element inside a bericht) and their names in the gateway
KINDS = {"gezin": "register-household", "casusOpenen": "open-case",
         "casusSluiten": "close-case", "hulpvraag": "support-request", "signaal": "signal",
         "plan": "change-plan"}
PLAN_STATUS: dict[str, PlanStatus] = {"concept": "draft", "actief": "active",
                                      "afgerond": "completed", "ingetrokken": "revoked"}
ROLES: dict[str, MemberRole] = {"ouder": "parent", "kind": "child", "partner": "partner",
                                "overig": "other", "ongeboren": "unborn"}
SENSITIVITIES: dict[str, Sensitivity] = {"veilig-thuis": "veilig-thuis",
                                         "gevoelige-zorg": "sensitive-care"}
DOMAINS: dict[str, LifeDomain] = {
    "opvoeding": "parenting", "psychische-gezondheid": "mental-health",
    "lichamelijke-gezondheid": "physical-health", "wonen": "housing",
    "verstandelijke-beperking": "intellectual-disability", "financien": "finances",
    "justitie": "justice", "huiselijke-relaties": "domestic-relations",
    "sociaal-netwerk": "social-network", "participatie": "participation",
    "onderwijs": "education", "verslaving": "addiction", "veiligheid": "safety",
    "werk-en-opleiding": "work-and-education", "tijdsbesteding": "daily-activities",
    "adl": "daily-living"}
SOURCES: dict[str, SignalSource] = {
    "buurt": "neighbourhood", "consultatiebureau": "child-health-clinic",
    "kinderopvang": "childcare", "school": "school", "huisarts": "gp",
    "wijkagent": "community-police", "woningcorporatie": "housing-corporation",
    "overig": "other"}


def parse_document(document: ZcdDocument) -> InboundMessage | Batch:
    """The canonical message of a bericht, or a Batch of a bundel's; InvalidMessage (422)
    lists every problem of every message."""
    issues: list[Issue] = []
    root = document.root
    if _local(root) == "bericht":
        message = _message(root, issues)
        result: InboundMessage | Batch = message
    else:
        ids: set[str] = set()
        messages = []
        for bericht in _children(root, "bericht"):
            message_id = _text(bericht, "berichtId")
            if message_id in ids:
                issues.append(Issue(xpath(_child(bericht, "berichtId")),
                                    "this message id is used twice in the bundle", "duplicate"))
            ids.add(message_id)
            messages.append(_message(bericht, issues))
        result = Batch(_text(root, "bundelId"), tuple(messages))
    if issues:
        raise InvalidMessage(issues, status=UNPROCESSABLE)
    return result


def _message(bericht: Any, issues: list[Issue]) -> InboundMessage:
    message_id = _text(bericht, "berichtId")
    body = bericht[1]
    return _PARSERS[_local(body)](message_id, body, issues)


def _household(message_id: str, gezin: Any, issues: list[Issue]) -> RegisterHousehold:
    lids = _children(gezin, "lid")
    members: list[MemberClaim] = []
    by_number: dict[int, MemberClaim] = {}
    for lid in lids:
        role = ROLES[_text(lid, "rol")]
        person = _person(lid, issues, unborn=role == "unborn")
        start, end = _date(lid, "begindatum"), _date(lid, "einddatum")
        if start and end and end < start:
            issues.append(Issue(xpath(_child(lid, "einddatum")),
                                "the membership ends before it starts", "value"))
        member = MemberClaim(person, role, start, end)
        members.append(member)
        number = int(lid.get("nr"))
        if number in by_number:
            issues.append(Issue(f"{xpath(lid)}/@nr", "this member number is used twice",
                                "duplicate"))
        by_number.setdefault(number, member)
    authority = []
    for lid, member in zip(lids, members, strict=True):
        for holder in _children(lid, "gezagdrager"):
            parent = by_number.get(int(holder.text))
            problem = _authority_problem(member, parent)
            if problem:
                issues.append(Issue(xpath(holder), *problem))
            elif parent is not None:
                authority.append(ParentalAuthority(parent.person, member.person))
    household_id = _text(gezin, "gezinId")
    return RegisterHousehold(message_id, HouseholdClaim(
        local=Identifier(system=household_system(SOURCE), value=household_id)
        if household_id else None, members=tuple(members)), tuple(authority),
        where=partial(_places, gezin, lids))


def _places(gezin: Any, lids: list[Any]) -> dict[str, str]:
    """Where each part of the household is in the document (``RegisterHousehold.where``)."""
    gezin_id = _child(gezin, "gezinId")
    places = {"Group.identifier": xpath(gezin if gezin_id is None else gezin_id)}
    places |= {f"Group.member[{i}]": xpath(lid) for i, lid in enumerate(lids)}
    holders = [holder for lid in lids for holder in _children(lid, "gezagdrager")]
    return places | {f"authority[{i}]": xpath(holder) for i, holder in enumerate(holders)}


def _authority_problem(child: MemberClaim, parent: MemberClaim | None
                       ) -> tuple[str, str] | None:
    """Why a ``gezagdrager`` cannot stand (message, code), or None."""
    if child.role != "child":
        return "only a child's member entry names who holds parental authority", "value"
    if parent is None:
        return "names no member of this household", "value"
    if parent.role != "parent":
        return "names a member who is not a parent", "value"
    if parent.person.bsn is None:
        return "parental authority is a parent's: give that parent's BSN", "required"
    return None


def _open_case(message_id: str, casus: Any, issues: list[Issue]) -> OpenCase:
    director = _child(casus, "casusregisseur")
    sensitivity = _text(casus, "gevoeligheid")
    return OpenCase(message_id, _person(_child(casus, "persoon"), issues),
                    _text(casus, "casusId"),
                    SENSITIVITIES[sensitivity] if sensitivity else None,
                    _date(casus, "begindatum"),
                    CaseDirector(_text(director, "medewerker"), _text(director, "organisatie")),
                    _domains(casus))


def _close_case(message_id: str, casus: Any, issues: list[Issue]) -> CloseCase:
    return CloseCase(message_id, _person(_child(casus, "persoon"), issues),
                     _text(casus, "casusId"), _date(casus, "einddatum"))


def _support_request(message_id: str, vraag: Any, issues: list[Issue]) -> SupportRequest:
    urgent = _text(vraag, "spoed")
    return SupportRequest(message_id, _person(_child(vraag, "persoon"), issues),
                          _text(vraag, "hulpvraagId"), cast(date, _date(vraag, "datum")),
                          _domains(vraag), _text(vraag, "verwijzer") or None,
                          urgent in ("true", "1"))


def _signal(message_id: str, signaal: Any, issues: list[Issue]) -> Signal:
    return Signal(message_id, _person(_child(signaal, "persoon"), issues),
                  _text(signaal, "signaalId"), cast(date, _date(signaal, "datum")),
                  SOURCES[_text(signaal, "bron")], _domains(signaal))


def _plan(message_id: str, plan: Any, issues: list[Issue]) -> ChangePlan:
    """The dossier's plan for its household (the gateway merges it); persons as in a
    ``gezin``, life domains in the dossier's codes."""
    doelen, acties = _children(plan, "doel"), _children(plan, "actie")
    scores, rollen = _children(plan, "score"), _children(plan, "rol")
    base, status = _text(plan, "basisversie"), _text(plan, "status")
    return ChangePlan(
        message_id, Identifier(system=household_system(SOURCE), value=_text(plan, "gezinId")),
        int(base) if base else None,
        goals=tuple(GoalClaim(
            _text(d, "doelId"), DOMAINS[_text(d, "leefgebied")], _text(d, "omschrijving"),
            _text(d, "status"), _plan_person(d, issues), _date(d, "begindatum"))
            for d in doelen),
        actions=tuple(ActionClaim(
            _text(a, "actieId"), _text(a, "doelId"), cast(PersonRef, _plan_person(a, issues)),
            party_of(_text(a, "uitvoerder")), _text(a, "omschrijving"), _text(a, "status"),
            _date(a, "uiterlijk")) for a in acties),
        scores=tuple(Score(_text(o, "scoreId"), _text(o, "doelId"),
                           "start" if _text(o, "soort") == "start" else "current",
                           int(_text(o, "waarde")), cast(date, _date(o, "datum")))
                     for o in scores),
        roles=tuple(RoleClaim(cast(PlanRole, _text(r, "rol")), _plan_person(r, issues),
                              party_of(_text(r, "partij")) if _text(r, "partij") else None)
                    for r in rollen),
        status=PLAN_STATUS[status] if status else None,
        where=partial(_plan_places, plan, doelen, acties, scores))


def _plan_person(element: Any, issues: list[Issue]) -> PersonRef | None:
    """A person as the dossier knows them, or by the gateway's id; None when neither."""
    persoon = _child(element, "persoon")
    if persoon is not None:
        return _person(persoon, issues)
    return _text(element, "persoonId") or None


def _plan_places(plan: Any, doelen: list[Any], acties: list[Any],
                 scores: list[Any]) -> dict[str, str]:
    """Where each item of the plan is in the document (``ChangePlan.where``)."""
    places = {"CarePlan.subject": xpath(_child(plan, "gezinId")), "CarePlan": xpath(plan)}
    for items, name in ((doelen, "doelId"), (acties, "actieId"), (scores, "scoreId")):
        places |= {f"CarePlan.contained[id={_text(item, name)}]": xpath(item)
                   for item in items}
    return places


_PARSERS: dict[str, Callable[[str, Any, list[Issue]], InboundMessage]] = {
    "gezin": _household, "casusOpenen": _open_case, "casusSluiten": _close_case,
    "hulpvraag": _support_request, "signaal": _signal, "plan": _plan}


def _person(element: Any, issues: list[Issue], unborn: bool = False) -> PersonClaim:
    bsn, local = _text(element, "bsn"), _text(element, "lokaalId")
    birth_date = _date(element, "geboortedatum")
    if birth_date is not None and birth_date > date.today():
        issues.append(Issue(xpath(_child(element, "geboortedatum")),
                            "a birth date cannot be in the future", "value"))
    if unborn and (bsn or birth_date):
        issues.append(Issue(xpath(element), "an unborn child has no BSN and no birth date yet",
                            "value"))
    if unborn and not local:
        issues.append(Issue(f"{xpath(element)}/zcd:lokaalId",
                            "an unborn child is named by the system's own id", "required"))
    return PersonClaim(
        bsn=bsn or None,
        local=Identifier(system=local_system(SOURCE), value=local) if local else None,
        family_name=_text(element, "geslachtsnaam") or None,
        given_name=_text(element, "voornamen") or None,
        birth_date=birth_date, postcode=_text(element, "postcode") or None)


def _domains(element: Any) -> tuple[LifeDomain, ...]:
    return tuple(dict.fromkeys(DOMAINS[(e.text or "").strip()]
                               for e in _children(element, "leefgebied")))


def _local(element: Any) -> str:
    return str(element.tag).rpartition("}")[2]


def _children(element: Any, name: str) -> list[Any]:
    tag = _TAG + name
    return [child for child in element if child.tag == tag]


def _child(element: Any, name: str) -> Any:
    """The first child of that name, or None (a loop: find() parses its path every call)."""
    tag = _TAG + name
    for child in element:
        if child.tag == tag:
            return child
    return None


def _text(element: Any, name: str) -> str:
    """The child's text, whitespace collapsed as the XSD's types do ('' when absent)."""
    child = _child(element, name)
    return (child.text or "").strip() if child is not None else ""


def _date(element: Any, name: str) -> date | None:
    text = _text(element, name)
    return date.fromisoformat(text) if text else None
