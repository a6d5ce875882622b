"""The adult records' JSON messages -> canonical messages (schemas.messages).

Checked against the published JSON Schema (``schema/bericht.schema.json``, with its format
``bsn`` asserting the elfproef) first, every problem at once, each named by its JSON pointer;
then what the schema cannot say: a birth date in the future, a trajectory that ends before it
starts, a provision outside the catalogue. No message repeats a value of the document (it may
hold a BSN or a name)."""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from importlib.resources import files
from typing import Any, cast

import jsonschema_rs
from jsonschema import Draft202012Validator, FormatChecker, ValidationError

from adapters.base import InvalidMessage, Issue
from adapters.plan_notice import party_of
from schemas import Identifier, PersonClaim, is_valid_bsn, local_system, safe_name
from schemas.household import HouseholdClaim, MemberClaim, MemberRole, household_system
from schemas.messages import (
    CloseCase,
    InboundMessage,
    LifeDomain,
    OpenCase,
    ProvisionRequest,
    RegisterHousehold,
    RegisterPerson,
)
from schemas.plans import (
    ActionClaim,
    ChangePlan,
    GoalClaim,
    PersonRef,
    PlanStatus,
    RoleClaim,
    Score,
)

SOURCE = "menscentraal"
BODY = {"client": "client", "traject": "traject", "voorzieningaanvraag": "aanvraag",
        "plan": "plan"}  # kind -> key
ROLES: dict[str, MemberRole] = {"ouder": "parent", "kind": "child", "partner": "partner",
                                "overig": "other"}
DOMAINS: dict[str, LifeDomain] = {  # the adult unit's ZRM-style domains, in the gateway's codes
    "financien": "finances", "werk-en-opleiding": "work-and-education",
    "tijdsbesteding": "daily-activities", "huisvesting": "housing",
    "huiselijke-relaties": "domestic-relations", "geestelijke-gezondheid": "mental-health",
    "lichamelijke-gezondheid": "physical-health", "verslaving": "addiction",
    "adl": "daily-living", "sociaal-netwerk": "social-network",
    "maatschappelijke-participatie": "participation", "justitie": "justice"}
# the plan's life domains: the system's own codes, and the youth unit's it receives in plans
PLAN_DOMAINS: dict[str, LifeDomain] = {**DOMAINS, "opvoeding": "parenting",
                                       "onderwijs": "education",
                                       "verstandelijke-beperking": "intellectual-disability",
                                       "veiligheid": "safety"}
PLAN_STATUS: dict[str, PlanStatus] = {"concept": "draft", "actief": "active",
                                      "afgerond": "completed", "ingetrokken": "revoked"}
PROVISION_STATUS = {"aangevraagd": "requested", "in-behandeling": "in-progress",
                    "toegekend": "granted", "afgewezen": "refused", "ingetrokken": "withdrawn"}
HOUSEHOLD_PLACES = {"Group.identifier": "/client/huishouden/huishoudnummer",
                    "Group.member[0]": "/client"}  # RegisterHousehold.where of a client
BAD_INPUT = 400  # a message the system got wrong, by the schema or beyond it


def schema(name: str) -> dict[str, Any]:
    """One of the published schemas (``bericht``, ``uitgaand``) or the catalogue."""
    return _loaded(name)


@cache
def _loaded(name: str) -> dict[str, Any]:
    text = (files("adapters.menscentraal") / "schema" / f"{name}.json").read_text("utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


FORMATS = FormatChecker()


@FORMATS.checks("bsn")
def _bsn_format(value: object) -> bool:
    """The schema's own format: nine digits and the elfproef. A format constrains strings
    only (JSON Schema); ``type`` refuses a number, which must not crash the check."""
    return not isinstance(value, str) or is_valid_bsn(value)


@cache
def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(schema(f"{name}.schema"), format_checker=FORMATS)


@cache
def catalogue() -> frozenset[str]:
    return frozenset(item["code"] for item in schema("voorzieningenboek")["voorzieningen"])


def pointer(path: Any) -> str:
    """A JSON pointer (RFC 6901) of a path of keys and indexes."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


@cache
def fast_validator(name: str) -> Any:
    """The same schema and formats compiled in Rust: a valid document is told in ~10 µs
    instead of ~250 µs (a first load has a million rows). It only says yes or no; what is
    wrong is named by ``validator``, which also has the last word when the two disagree."""
    return jsonschema_rs.validator_for(schema(f"{name}.schema"), validate_formats=True, formats={
        "bsn": is_valid_bsn, "date": lambda value: FORMATS.conforms(value, "date")})


def schema_issues(name: str, document: Any) -> list[Issue]:
    """Every element that fails the schema, once each (its first problem), by pointer."""
    if fast_validator(name).is_valid(document):
        return []
    first: dict[str, Issue] = {}
    for error in validator(name).iter_errors(document):
        for issue in _issues(error):
            first.setdefault(issue.expression, issue)
    return [first[where] for where in sorted(first)]


def _issues(error: ValidationError) -> list[Issue]:
    """Our own words per keyword: jsonschema's messages repeat the offending value."""
    if error.validator in ("allOf", "if") and error.context:
        return [issue for sub in error.context for issue in _issues(sub)]
    where = pointer(error.absolute_path)
    keyword = error.validator
    if keyword == "required":
        present = error.instance if isinstance(error.instance, dict) else {}
        return [Issue(f"{where}/{name}", "required element is missing", "required")
                for name in error.validator_value if name not in present]
    if keyword == "additionalProperties":
        known = error.schema.get("properties", {})
        return [Issue(f"{where}/{safe_name(str(name))}", "unknown element", "structure")
                for name in error.instance if name not in known]
    if keyword == "enum":
        return [Issue(where, f"must be one of {', '.join(map(str, error.validator_value))}",
                      "code-invalid")]
    if keyword == "const":
        return [Issue(where, f"must be {error.validator_value}", "value")]
    if keyword == "type":
        return [Issue(where, f"must be a JSON {error.validator_value}", "structure")]
    if keyword == "format" and error.validator_value == "bsn":
        return [Issue(where, "not a valid BSN (9 digits passing the elfproef)", "value")]
    if keyword == "format":
        return [Issue(where, f"not a valid {error.validator_value}", "value")]
    return [Issue(where, f"does not meet the schema's {keyword}", "value")]


def parse_message(document: Any) -> InboundMessage:
    """Validate one message and return it as a canonical message."""
    issues = schema_issues("bericht", document)
    if issues:
        raise InvalidMessage(issues, status=BAD_INPUT)
    kind = document["soort"]
    body = document[BODY[kind]]
    issues = [Issue(f"/{other}", f"not an element of a {kind} message", "structure")
              for other in BODY.values() if other != BODY[kind] and other in document]
    issues += _semantic_issues(kind, body, f"/{BODY[kind]}")
    if issues:
        raise InvalidMessage(issues, status=BAD_INPUT)
    return _canonical(document["berichtId"], kind, body)


def _semantic_issues(kind: str, body: dict[str, Any], where: str) -> list[Issue]:
    issues = []
    if kind == "traject" and "einde" in body and body["einde"] < body["start"]:
        issues.append(Issue(f"{where}/einde", "the trajectory ends before it starts",
                            "value"))
    if kind == "voorzieningaanvraag" and body["voorziening"] not in catalogue():
        issues.append(Issue(f"{where}/voorziening", "not a provision of the catalogue "
                                                    "(voorzieningenboek)", "code-invalid"))
    if kind == "client" and "geboortedatum" in body \
            and date.fromisoformat(body["geboortedatum"]) > date.today():
        issues.append(Issue(f"{where}/geboortedatum", "a birth date cannot be in the future",
                            "value"))
    return issues


def _canonical(message_id: str, kind: str, body: dict[str, Any]) -> InboundMessage:
    if kind == "client" and "huishouden" in body:  # the client, as a member of a household
        household = body["huishouden"]
        since = household.get("sinds")
        return RegisterHousehold(message_id, HouseholdClaim(
            local=Identifier(system=household_system(SOURCE), value=household["huishoudnummer"]),
            members=(MemberClaim(_person(body), ROLES[household["rol"]],
                                 date.fromisoformat(since) if since else None),)),
            where=lambda: HOUSEHOLD_PLACES)
    if kind == "client":
        return RegisterPerson(message_id, _person(body))
    if kind == "plan":
        return _plan(message_id, body)
    person = _person(body["client"])
    if kind == "traject":
        ref = f"traject/{body['trajectnummer']}"
        if body["status"] == "gesloten":
            return CloseCase(message_id, person, ref, date.fromisoformat(body["einde"]))
        return OpenCase(message_id, person, ref, None, date.fromisoformat(body["start"]),
                        domains=(DOMAINS[body["domein"]],))
    return ProvisionRequest(message_id, person, body["aanvraagnummer"], body["voorziening"],
                            PROVISION_STATUS[body["status"]],  # type: ignore[arg-type]
                            date.fromisoformat(body["datum"]))


def _plan(message_id: str, plan: dict[str, Any]) -> ChangePlan:
    """The system's plan for its household (the gateway merges it)."""
    status = plan.get("status")
    return ChangePlan(
        message_id, Identifier(system=household_system(SOURCE), value=plan["huishoudnummer"]),
        plan.get("basisversie"),
        goals=tuple(GoalClaim(g["doelId"], PLAN_DOMAINS[g["domein"]], g["omschrijving"],
                              g["status"], _plan_person(g), _day(g.get("start")))
                    for g in plan.get("doelen", ())),
        actions=tuple(ActionClaim(a["actieId"], a["doelId"],
                                  cast(PersonRef, _plan_person(a)),
                                  party_of(a["uitvoerder"]), a["omschrijving"], a["status"],
                                  _day(a.get("uiterlijk"))) for a in plan.get("acties", ())),
        scores=tuple(Score(o["scoreId"], o["doelId"],
                           "start" if o["soort"] == "start" else "current", o["waarde"],
                           date.fromisoformat(o["datum"])) for o in plan.get("scores", ())),
        roles=tuple(RoleClaim(r["rol"], _plan_person(r),
                              party_of(r["partij"]) if "partij" in r else None)
                    for r in plan.get("rollen", ())),
        status=PLAN_STATUS[status] if status else None,
        where=lambda: _plan_places(plan))


def _plan_person(item: dict[str, Any]) -> PersonRef | None:
    """Whom an item is about: the gateway's person id (``persoonId``, as the notices have
    it), or ``persoon`` as the system knows them (client number, BSN, or that id)."""
    if "persoonId" in item:
        return str(item["persoonId"])
    persoon = item.get("persoon")
    if persoon is None:
        return None
    if "persoonId" in persoon:
        return str(persoon["persoonId"])
    local = persoon.get("clientnummer")
    return PersonClaim(bsn=persoon.get("bsn"), local=Identifier(
        system=local_system(SOURCE), value=local) if local else None)


def _plan_places(plan: dict[str, Any]) -> dict[str, str]:
    """Where each item is in the message (``ChangePlan.where``), by JSON pointer."""
    places = {"CarePlan.subject": "/plan/huishoudnummer", "CarePlan": "/plan"}
    for key, name in (("doelen", "doelId"), ("acties", "actieId"), ("scores", "scoreId")):
        places |= {f"CarePlan.contained[id={item[name]}]": f"/plan/{key}/{i}"
                   for i, item in enumerate(plan.get(key, ()))}
    return places


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _person(client: dict[str, Any]) -> PersonClaim:
    birth = client.get("geboortedatum")
    return PersonClaim(
        bsn=client.get("bsn"),
        local=Identifier(system=local_system(SOURCE), value=client["clientnummer"]),
        family_name=client.get("achternaam"), given_name=client.get("voornamen"),
        birth_date=date.fromisoformat(birth) if birth else None,
        postcode=client.get("postcode"))
