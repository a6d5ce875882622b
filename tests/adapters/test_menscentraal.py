"""The adult records' messages: checked against the published JSON Schema with every problem
named by its JSON pointer and no value repeated, then made canonical; notices out are checked
against the outbound schema before they leave."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from adapters import InvalidMessage, OutboundMessage, Recipient, RenderError, get_adapter
from schemas import Identifier, PersonClaim, local_system
from schemas.messages import CloseCase, OpenCase, ProvisionRequest, RegisterPerson
from tests.support.samples import VALID_BSNS

MC = get_adapter("menscentraal")
SCHEMAS = Path(__file__).parents[2] / "adapters" / "menscentraal" / "schema"
CLIENT = {"clientnummer": "mc-1", "bsn": VALID_BSNS[0], "achternaam": "Jansen",
          "voornamen": "Anna", "geboortedatum": "1988-03-04", "postcode": "1234 AB"}
REF = {"clientnummer": "mc-1", "bsn": VALID_BSNS[0]}
LOCAL = Identifier(system=local_system("menscentraal"), value="mc-1")


def traject(**changes: Any) -> dict[str, Any]:
    body = {"trajectnummer": "t-1", "client": REF, "domein": "financien", "status": "open",
            "start": "2026-05-01", **changes}
    return {"berichtId": "m-2", "soort": "traject", "traject": body}


def _issues(document: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidMessage) as raised:
        MC.parse(document)
    assert raised.value.status == 400
    text = str(raised.value)
    assert not any(secret in text for secret in ("Jansen", "Anna", "123456789", "9999"))
    return [(issue.expression, issue.code) for issue in raised.value.issues]


def test_the_published_schemas_are_valid_json_schema() -> None:
    for name in ("bericht", "uitgaand"):
        Draft202012Validator.check_schema(json.loads((SCHEMAS / f"{name}.schema.json")
                                                     .read_text()))


def test_a_client_is_a_person_by_bsn_and_client_number() -> None:
    message = MC.parse({"berichtId": "m-1", "soort": "client", "client": CLIENT})
    assert message == RegisterPerson("m-1", PersonClaim(VALID_BSNS[0], LOCAL, "Jansen", "Anna",
                                                        date(1988, 3, 4), "1234 AB"))
    without_bsn = MC.parse({"berichtId": "m-1", "soort": "client",
                            "client": {"clientnummer": "mc-1"}})
    assert without_bsn.person == PersonClaim(None, LOCAL)


def test_a_trajectory_opens_and_closes_a_case() -> None:
    person = PersonClaim(VALID_BSNS[0], LOCAL)
    assert MC.parse(traject()) == OpenCase("m-2", person, "traject/t-1", None,
                                           date(2026, 5, 1), domains=("finances",))
    assert MC.parse(traject(status="gesloten", einde="2026-11-30")) == CloseCase(
        "m-2", person, "traject/t-1", date(2026, 11, 30))


def test_a_provision_request_names_a_code_of_the_catalogue() -> None:
    message = MC.parse({"berichtId": "m-3", "soort": "voorzieningaanvraag", "aanvraag": {
        "aanvraagnummer": "a-9", "client": REF, "voorziening": "schuldhulpverlening",
        "status": "toegekend", "datum": "2026-11-20"}})
    assert message == ProvisionRequest("m-3", PersonClaim(VALID_BSNS[0], LOCAL), "a-9",
                                       "schuldhulpverlening", "granted", date(2026, 11, 20))


@pytest.mark.parametrize(("document", "expected"), [
    ({"soort": "client", "client": CLIENT}, [("/berichtId", "required")]),
    ({"berichtId": "m-1", "soort": "brief"}, [("/soort", "code-invalid")]),
    ({"berichtId": "m-1", "soort": "client"}, [("/client", "required")]),
    ({"berichtId": "m-1", "soort": "client", "client": {**CLIENT, "bsn": "12345678"}},
     [("/client/bsn", "value")]),
    ({"berichtId": "m-1", "soort": "client", "client": {**CLIENT, "bsn": "123456789"}},
     [("/client/bsn", "value")]),  # nine digits, failing the elfproef
    ({"berichtId": "m-1", "soort": "client", "client": {**CLIENT, "geboortedatum": "1988-02-30"}},
     [("/client/geboortedatum", "value")]),
    ({"berichtId": "m-1", "soort": "client", "client": {**CLIENT, "geboortedatum": "2999-01-01"}},
     [("/client/geboortedatum", "value")]),
    ({"berichtId": "m-1", "soort": "client", "client": {**CLIENT, "bijnaam": "An"}},
     [("/client/bijnaam", "structure")]),
    ({"berichtId": "m-1", "soort": "client", "client": CLIENT, "traject": traject()["traject"]},
     [("/traject", "structure")]),
    (traject(status="gesloten"), [("/traject/einde", "required")]),
    (traject(status="gesloten", einde="2026-04-30"), [("/traject/einde", "value")]),
    (traject(start="2026-05-01T10:00:00+02:00"), [("/traject/start", "value")]),
    (traject(domein="pedagogiek", client={"bsn": "12"}),
     [("/traject/client/bsn", "value"), ("/traject/client/clientnummer", "required"),
      ("/traject/domein", "code-invalid")]),
    ({"berichtId": "m-3", "soort": "voorzieningaanvraag", "aanvraag": {
        "aanvraagnummer": "a-9", "client": REF, "voorziening": "jacht", "status": "toegekend",
        "datum": "2026-11-20"}}, [("/aanvraag/voorziening", "code-invalid")]),
], ids=["no-id", "unknown-kind", "no-body", "short-bsn", "elfproef", "no-such-date",
        "future-birth", "unknown-element", "body-of-another-kind", "closed-without-end",
        "ends-before-start", "date-with-zone", "every-problem-at-once", "not-in-catalogue"])
def test_bad_messages_name_every_problem_by_pointer(document: dict, expected: list) -> None:
    assert _issues(document) == expected


def test_an_unknown_elements_name_is_not_repeated_when_it_could_be_personal() -> None:
    assert _issues({"berichtId": "m-1", "soort": "client",
                    "client": {**CLIENT, "Jansen 123456782": 1}}) == [("/client/?", "structure")]


def _outbound(resource_type: str, content: dict) -> OutboundMessage:
    return OutboundMessage("nl.wijkgateway.referral.status", resource_type, "task-1", content)


def test_notices_out_fit_the_outbound_schema() -> None:
    recipient = Recipient("wijkteam-noord", "wijkteam")
    task = MC.render(_outbound("Task", {"status": "accepted",
                                        "focus": {"reference": "ServiceRequest/sr-1"}}),
                     recipient)
    assert task == {"soort": "verwijzingstatus", "gebeurtenis": "nl.wijkgateway.referral.status",
                    "verwijzingId": "sr-1", "status": "accepted", "team": "wijkteam-noord"}
    MC.check_outbound(task)
    with pytest.raises(InvalidMessage) as raised:
        MC.check_outbound({**task, "status": "lost", "notitie": "vrije tekst"})
    assert [i.expression for i in raised.value.issues] == ["/notitie", "/status"]
    with pytest.raises(RenderError):
        MC.render(_outbound("Consent", {}), recipient)


def test_a_client_in_a_household_registers_its_membership() -> None:
    message = MC.parse({"berichtId": "m-1", "soort": "client", "client": {
        **CLIENT, "huishouden": {"huishoudnummer": "H-9", "rol": "ouder", "sinds": "2015-01-01"}}})
    assert message.household.local.value == "H-9"
    [member] = message.household.members
    assert (member.person.local, member.role, member.start) == (LOCAL, "parent", date(2015, 1, 1))
