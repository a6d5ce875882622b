"""The youth dossier (ZCD-style) adapter: every message kind and a bundle parse to canonical
messages; XSD failures, bad BSNs, zoned dates, unknown elements and a wrong namespace are a 400
naming each XPath; a DOCTYPE, entities (billion laughs, a quadratic blowup) and external
entities are a 400, fast and without memory growth; what the XSD cannot say is a 422; no
value is ever repeated; notices render to XML that the same XSD checks."""

from __future__ import annotations

import re
import resource
import subprocess
import sys
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from importlib.resources import files
from pathlib import Path

import pytest
import xmlschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters import (
    InvalidMessage,
    OutboundMessage,
    Recipient,
    RenderError,
    get_adapter,
    published_schema,
)
from adapters.zcd import MEDIA_TYPE, NAMESPACE, ZcdDocument
from adapters.zcd import document as zcd_document
from schemas import Identifier, local_system
from schemas.messages import (
    Batch,
    CaseDirector,
    CloseCase,
    OpenCase,
    RegisterHousehold,
    Signal,
    SupportRequest,
)

ZCD = get_adapter("zcd")
TEAM = Recipient("wijkteam-noord", "wijkteam")
MOTHER, FATHER, CHILD = "111222333", "123456782", "999999990"
BAD_BSN = "123456789"  # 9 digits, fails the elfproef
NAMES = ("Jansen", "Anna", "Pietje")
ROOT = Path(__file__).resolve().parents[2]


def bericht(body: str, message_id: str = "m-1", root: bool = True) -> str:
    ns = f' xmlns:zcd="{NAMESPACE}"' if root else ""
    return (f'<zcd:bericht{ns} versie="1.0"><zcd:berichtId>{message_id}</zcd:berichtId>'
            f'{body}</zcd:bericht>')


def xml(text: str) -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{text}'.encode()


def lid(nr: int, person: str, rol: str, extra: str = "") -> str:
    return f'<zcd:lid nr="{nr}">{person}<zcd:rol>{rol}</zcd:rol>{extra}</zcd:lid>'


GEZIN = bericht(
    "<zcd:gezin><zcd:gezinId>h-1</zcd:gezinId>"
    + lid(1, f"<zcd:bsn>{MOTHER}</zcd:bsn><zcd:geslachtsnaam>Jansen</zcd:geslachtsnaam>"
             "<zcd:voornamen>Anna</zcd:voornamen><zcd:geboortedatum>1988-03-04"
             "</zcd:geboortedatum><zcd:postcode>1234AB</zcd:postcode>", "ouder",
          "<zcd:begindatum>2020-01-01</zcd:begindatum>")
    + lid(2, f"<zcd:bsn>{FATHER}</zcd:bsn>", "ouder")
    + lid(3, f"<zcd:bsn>{CHILD}</zcd:bsn><zcd:lokaalId>k-7</zcd:lokaalId>"
             "<zcd:voornamen>Pietje</zcd:voornamen>"
             "<zcd:geboortedatum>2019-05-06</zcd:geboortedatum>", "kind",
          "<zcd:gezagdrager>1</zcd:gezagdrager><zcd:gezagdrager>2</zcd:gezagdrager>")
    + lid(4, "<zcd:lokaalId>u-1</zcd:lokaalId>", "ongeboren")
    + "</zcd:gezin>")
PERSOON = "<zcd:persoon><zcd:lokaalId>k-7</zcd:lokaalId></zcd:persoon>"
OPEN = bericht(f"<zcd:casusOpenen>{PERSOON}<zcd:casusId>c-1</zcd:casusId>"
               "<zcd:begindatum>2026-11-01</zcd:begindatum>"
               "<zcd:gevoeligheid>gevoelige-zorg</zcd:gevoeligheid>"
               "<zcd:casusregisseur><zcd:medewerker>jeugd-7</zcd:medewerker>"
               "<zcd:organisatie>wijkteam-noord</zcd:organisatie></zcd:casusregisseur>"
               "</zcd:casusOpenen>", "m-2")
CLOSE = bericht(f"<zcd:casusSluiten>{PERSOON}<zcd:casusId>c-1</zcd:casusId>"
                "<zcd:einddatum>2026-12-01</zcd:einddatum></zcd:casusSluiten>", "m-3")
HULPVRAAG = bericht(f"<zcd:hulpvraag><zcd:persoon><zcd:bsn>{MOTHER}</zcd:bsn></zcd:persoon>"
                    "<zcd:hulpvraagId>hv-1</zcd:hulpvraagId><zcd:datum>2026-11-02</zcd:datum>"
                    "<zcd:leefgebied>opvoeding</zcd:leefgebied>"
                    "<zcd:leefgebied>financien</zcd:leefgebied>"
                    "<zcd:verwijzer>02</zcd:verwijzer><zcd:spoed>true</zcd:spoed>"
                    "</zcd:hulpvraag>", "m-4")
SIGNAAL = bericht(f"<zcd:signaal>{PERSOON}<zcd:signaalId>s-1</zcd:signaalId>"
                  "<zcd:datum>2026-11-03</zcd:datum><zcd:bron>kinderopvang</zcd:bron>"
                  "<zcd:leefgebied>veiligheid</zcd:leefgebied></zcd:signaal>", "m-5")


def parse(body: bytes) -> object:
    _validators_agree(body)
    return ZCD.parse(ZCD.decode(body))


def _validators_agree(body: bytes) -> None:
    """libxml2 passes a document only when xmlschema would (schema_issues relies on it)."""
    try:
        root = zcd_document.read(body)
    except InvalidMessage:
        return
    resource = xmlschema.XMLResource(root, allow="none")
    assert zcd_document.fast_schema().validate(root) == zcd_document.schema().is_valid(
        resource, use_location_hints=False)


def refused(body: bytes, status: int = 400) -> list[tuple[str, str]]:
    """The (expression, code) of each issue; and no value of the document in any of them."""
    with pytest.raises(InvalidMessage) as raised:
        parse(body)
    assert raised.value.status == status
    said = str(raised.value) + repr(raised.value.issues)
    for value in (MOTHER, FATHER, CHILD, BAD_BSN, "12345", *NAMES, "Fatima", "evil"):
        assert value not in said
    return [(issue.expression, issue.code) for issue in raised.value.issues]


def expressions(body: bytes, status: int = 400) -> list[str]:
    return [expression for expression, _ in refused(body, status)]


class TestValidMessages:
    def test_descriptor(self) -> None:
        assert ZCD.descriptor.media_type == MEDIA_TYPE == "application/xml"
        assert ZCD.descriptor.inbound == {"register-household", "open-case", "close-case",
                                          "support-request", "signal", "change-plan"}
        assert ZCD.descriptor.outbound == {"ServiceRequest", "Task", "CareTeam",
                                           "EpisodeOfCare", "CarePlan"}

    def test_a_household_with_its_parents_children_and_parental_authority(self) -> None:
        message = parse(xml(GEZIN))
        assert isinstance(message, RegisterHousehold)
        assert message.message_id == "m-1"
        household = message.household
        assert household.local is not None and household.local.value == "h-1"
        assert [m.role for m in household.members] == ["parent", "parent", "child", "unborn"]
        mother = household.members[0]
        assert (mother.person.bsn, mother.person.family_name, mother.person.given_name,
                mother.person.birth_date, mother.person.postcode, mother.start) == (
            MOTHER, "Jansen", "Anna", date(1988, 3, 4), "1234AB", date(2020, 1, 1))
        child = household.members[2].person
        assert child.local == Identifier(system=local_system("zcd"), value="k-7")
        assert [(a.parent.bsn, a.child.bsn) for a in message.authority] == [
            (MOTHER, CHILD), (FATHER, CHILD)]
        unborn = household.members[3].person
        assert unborn.bsn is None and unborn.local is not None

    def test_open_a_youth_case_with_its_case_director(self) -> None:
        message = parse(xml(OPEN))
        assert isinstance(message, OpenCase)
        assert (message.message_id, message.case_ref, message.sensitivity, message.start) == (
            "m-2", "c-1", "sensitive-care", date(2026, 11, 1))
        assert message.director == CaseDirector("jeugd-7", "wijkteam-noord")
        assert message.person.local is not None and message.person.local.value == "k-7"

    def test_close_a_youth_case(self) -> None:
        message = parse(xml(CLOSE))
        assert isinstance(message, CloseCase)
        assert (message.case_ref, message.end) == ("c-1", date(2026, 12, 1))

    def test_a_support_request(self) -> None:
        message = parse(xml(HULPVRAAG))
        assert message == SupportRequest(
            "m-4", message.person, "hv-1", date(2026, 11, 2), ("parenting", "finances"),
            referrer="02", urgent=True)  # type: ignore[union-attr]
        assert isinstance(message, SupportRequest) and message.person.bsn == MOTHER

    def test_a_signal(self) -> None:
        message = parse(xml(SIGNAAL))
        assert isinstance(message, Signal)
        assert (message.signal_ref, message.observed, message.source, message.domains) == (
            "s-1", date(2026, 11, 3), "childcare", ("safety",))

    def test_a_bundle_is_a_batch_of_every_message(self) -> None:
        inner = "".join(message.replace(f' xmlns:zcd="{NAMESPACE}"', "")
                        for message in (GEZIN, OPEN, SIGNAAL))
        batch = parse(xml(f'<zcd:bundel xmlns:zcd="{NAMESPACE}" versie="1.0">'
                          f"<zcd:bundelId>b-1</zcd:bundelId>{inner}</zcd:bundel>"))
        assert isinstance(batch, Batch)
        assert batch.message_id == "b-1"
        assert [type(m) for m in batch.messages] == [RegisterHousehold, OpenCase, Signal]
        assert [m.message_id for m in batch.messages] == ["m-1", "m-2", "m-5"]

    def test_parse_takes_the_bytes_too_and_nothing_undecoded(self) -> None:
        assert isinstance(ZCD.parse(xml(CLOSE)), CloseCase)
        assert isinstance(ZCD.decode(xml(CLOSE)), ZcdDocument)
        with pytest.raises(InvalidMessage) as raised:
            ZCD.parse({"kind": "close-case"})
        assert raised.value.status == 400

    def test_location_hints_are_ignored(self) -> None:
        hinted = OPEN.replace('versie="1.0"', 'versie="1.0" xmlns:xsi="http://www.w3.org/2001/'
                              'XMLSchema-instance" xsi:schemaLocation="urn:wijkgateway:zcd:1.0 '
                              'http://evil.invalid/zcd.xsd"', 1)
        started = time.perf_counter()
        assert isinstance(parse(xml(hinted)), OpenCase)
        assert time.perf_counter() - started < 1


class TestSchemaFailures:
    def test_every_problem_is_named_by_its_xpath(self) -> None:
        body = GEZIN.replace(f"<zcd:bsn>{FATHER}</zcd:bsn>", "<zcd:bsn>12345</zcd:bsn>") \
            .replace("<zcd:rol>ongeboren</zcd:rol>", "<zcd:rol>buurman</zcd:rol>") \
            .replace("<zcd:postcode>1234AB</zcd:postcode>", "<zcd:postcode>1234 ab</zcd:postcode>"
                     "<zcd:bijnaam>Fatima</zcd:bijnaam>")
        assert refused(xml(body)) == [
            ("/zcd:bericht/zcd:gezin/zcd:lid[1]/zcd:postcode", "value"),
            ("/zcd:bericht/zcd:gezin/zcd:lid[1]/zcd:bijnaam", "structure"),
            ("/zcd:bericht/zcd:gezin/zcd:lid[2]/zcd:bsn", "value"),
            ("/zcd:bericht/zcd:gezin/zcd:lid[4]/zcd:rol", "value"),
        ]

    def test_a_bsn_failing_the_elfproef(self) -> None:
        body = GEZIN.replace(f"<zcd:bsn>{FATHER}</zcd:bsn>", f"<zcd:bsn>{BAD_BSN}</zcd:bsn>")
        assert refused(xml(body)) == [("/zcd:bericht/zcd:gezin/zcd:lid[2]/zcd:bsn", "value")]

    def test_a_bad_bsn_is_reported_with_every_other_problem(self) -> None:
        body = HULPVRAAG.replace(MOTHER, BAD_BSN).replace("2026-11-02", "2026-11-02+01:00")
        assert expressions(xml(body)) == ["/zcd:bericht/zcd:hulpvraag/zcd:datum",
                                          "/zcd:bericht/zcd:hulpvraag/zcd:persoon/zcd:bsn"]

    @pytest.mark.parametrize("day", ["2026-11-01Z", "2026-11-01+01:00", "2026-11-01T10:00:00",
                                     "2026-13-01", "01-11-2026", ""])
    def test_a_date_with_a_zone_or_not_a_date(self, day: str) -> None:
        body = OPEN.replace("2026-11-01", day)
        assert refused(xml(body)) == [("/zcd:bericht/zcd:casusOpenen/zcd:begindatum", "value")]

    def test_an_unknown_element_and_a_missing_one(self) -> None:
        body = OPEN.replace("<zcd:casusregisseur>", "<zcd:dossier/><zcd:casusregisseur>")
        assert refused(xml(body)) == [("/zcd:bericht/zcd:casusOpenen/zcd:dossier", "structure")]
        body = OPEN.replace("<zcd:casusId>c-1</zcd:casusId>", "")
        assert refused(xml(body)) == [("/zcd:bericht/zcd:casusOpenen/zcd:casusId", "required")]
        body = OPEN.replace("<zcd:casusId>c-1</zcd:casusId>", "").replace(
            "</zcd:casusOpenen>", "<zcd:casusId>c-1</zcd:casusId></zcd:casusOpenen>")
        assert refused(xml(body)) == [("/zcd:bericht/zcd:casusOpenen/zcd:begindatum",
                                       "structure")]

    def test_foreign_elements_text_and_children_where_they_do_not_belong(self) -> None:
        body = CLOSE.replace("<zcd:einddatum>", f'<x:extra xmlns:x="urn:other">{MOTHER}'
                             "</x:extra><zcd:einddatum>")
        assert refused(xml(body)) == [("/zcd:bericht/zcd:casusSluiten/*:extra", "structure")]
        body = CLOSE.replace("<zcd:casusId>", f"Fatima {MOTHER}<zcd:casusId>")
        assert refused(xml(body)) == [("/zcd:bericht/zcd:casusSluiten", "structure")]
        body = CLOSE.replace("<zcd:casusId>c-1", "<zcd:casusId>c-1<zcd:b/>")
        assert refused(xml(body)) == [("/zcd:bericht/zcd:casusSluiten/zcd:casusId",
                                       "structure")]

    def test_an_element_named_like_a_bsn_is_not_repeated(self) -> None:
        body = CLOSE.replace("<zcd:einddatum>", f"<zcd:x{BAD_BSN}/><zcd:einddatum>")
        assert expressions(xml(body)) == ["/zcd:bericht/zcd:casusSluiten/zcd:?"]

    def test_codes_outside_their_list(self) -> None:
        body = HULPVRAAG.replace("<zcd:verwijzer>02", "<zcd:verwijzer>09") \
            .replace("<zcd:spoed>true", "<zcd:spoed>ja")
        assert refused(xml(body)) == [("/zcd:bericht/zcd:hulpvraag/zcd:verwijzer", "value"),
                                      ("/zcd:bericht/zcd:hulpvraag/zcd:spoed", "value")]

    def test_version_and_attributes(self) -> None:
        assert expressions(xml(CLOSE.replace('versie="1.0"', 'versie="2.0"'))) == [
            "/zcd:bericht/@versie"]
        assert refused(xml(CLOSE.replace(' versie="1.0"', ""))) == [
            ("/zcd:bericht/@versie", "required")]
        assert refused(xml(CLOSE.replace('versie="1.0"', 'versie="1.0" bsn="x"'))) == [
            ("/zcd:bericht/@bsn", "structure")]

    @pytest.mark.parametrize("root", [
        '<bericht versie="1.0"><berichtId>m</berichtId></bericht>',
        '<zcd:bericht xmlns:zcd="urn:wijkgateway:zcd:2.0" versie="1.0"/>',
        f'<zcd:notificatie xmlns:zcd="{NAMESPACE}" versie="1.0"/>',
        '<Bundle xmlns="http://hl7.org/fhir"/>',
    ])
    def test_a_wrong_namespace_or_root(self, root: str) -> None:
        assert refused(xml(root)) == [("/", "structure")]

    def test_a_bundle_names_the_message_of_each_problem(self) -> None:
        first = bericht("<zcd:casusSluiten><zcd:persoon><zcd:bsn>"
                        f"{BAD_BSN}</zcd:bsn></zcd:persoon><zcd:casusId>c-1</zcd:casusId>"
                        "</zcd:casusSluiten>", "m-1", root=False)
        second = bericht("<zcd:signaal><zcd:persoon><zcd:lokaalId>k</zcd:lokaalId>"
                         "</zcd:persoon><zcd:signaalId>s</zcd:signaalId><zcd:datum>2026-11-01"
                         "</zcd:datum><zcd:bron>roddel</zcd:bron></zcd:signaal>", "m-2",
                         root=False)
        body = xml(f'<zcd:bundel xmlns:zcd="{NAMESPACE}" versie="1.0"><zcd:bundelId>b'
                   f"</zcd:bundelId>{first}{second}</zcd:bundel>")
        assert expressions(body) == [
            "/zcd:bundel/zcd:bericht[2]/zcd:signaal/zcd:bron",
            "/zcd:bundel/zcd:bericht[1]/zcd:casusSluiten/zcd:persoon/zcd:bsn"]


class TestNotXml:
    @pytest.mark.parametrize("body", [b"", b"  \n ", b"not xml", b'{"kind": "open-case"}',
                                      b"<zcd:bericht", b"<a><b></a>", b"\xff\xfe<\x00a\x00",
                                      b"<a>&undefined;</a>"])
    def test_not_xml_is_400_naming_the_document(self, body: bytes) -> None:
        assert expressions(body) == ["/"]

    def test_a_mismatched_tag_is_not_repeated(self) -> None:
        with pytest.raises(InvalidMessage) as raised:
            ZCD.decode(f"<a{MOTHER}></b>".encode())
        assert MOTHER not in str(raised.value)


def _rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


class TestHostileXml:
    """A DOCTYPE in any form is refused; entity expansion never happens."""

    LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 or "")) * 10}">'
                        for i in range(1, 10))
              + "]><lolz>&lol9;</lolz>").encode()
    QUADRATIC = (b'<?xml version="1.0"?><!DOCTYPE kaboom [<!ENTITY a "' + b"a" * 100_000
                 + b'">]><kaboom>' + b"&a;" * 40_000 + b"</kaboom>")

    @pytest.mark.parametrize("body", [
        LAUGHS, QUADRATIC,
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "http://evil.invalid/x">]>'
        b"<x>&e;</x>",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY % p SYSTEM "http://evil.invalid/p">%p;]>'
        b"<x/>",
        b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "http://evil.invalid/x.dtd"><x/>',
        xml(f'<!DOCTYPE zcd:bericht [<!ENTITY b "{MOTHER}">]>'
            + CLOSE.replace("k-7", "&b;")).replace(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                                                    b"\n", b""),
        b'<!DOCTYPE zcd:bericht>' + xml(CLOSE).split(b"\n", 1)[1],
    ], ids=["billion-laughs", "quadratic-blowup", "external-file", "external-http",
            "parameter-entity", "external-dtd", "internal-entity", "bare-doctype"])
    def test_refused_fast_and_without_memory_growth(self, body: bytes) -> None:
        before = _rss_kb()
        started = time.perf_counter()
        issues = refused(body)
        assert time.perf_counter() - started < 0.5
        assert _rss_kb() - before < 20_000  # kB: nothing was expanded
        assert issues == [("/", "security")]

    def test_a_doctype_is_a_security_issue(self) -> None:
        assert refused(self.LAUGHS) == [("/", "security")]
        assert refused(b'<!DOCTYPE zcd:bericht>' + xml(CLOSE).split(b"\n", 1)[1]) == [
            ("/", "security")]

    def test_a_huge_document_is_refused_before_reading(self) -> None:
        assert refused(b"<a>" + b" " * 5_000_001 + b"</a>") == [("/", "too-costly")]


class TestSemantics:
    """What the XSD cannot say: 422, every problem named."""

    def test_parental_authority_names_a_parent_with_a_bsn(self) -> None:
        body = GEZIN.replace(f"<zcd:bsn>{FATHER}</zcd:bsn>", "<zcd:lokaalId>v-1</zcd:lokaalId>") \
            .replace("<zcd:gezagdrager>1</zcd:gezagdrager>", "<zcd:gezagdrager>4</zcd:gezagdrager>")
        assert refused(xml(body), 422) == [
            ("/zcd:bericht/zcd:gezin/zcd:lid[3]/zcd:gezagdrager[1]", "value"),
            ("/zcd:bericht/zcd:gezin/zcd:lid[3]/zcd:gezagdrager[2]", "required")]

    def test_authority_over_a_child_only_and_by_a_member(self) -> None:
        body = GEZIN.replace("<zcd:rol>ouder</zcd:rol><zcd:begindatum>2020-01-01</zcd:begindatum>",
                             "<zcd:rol>ouder</zcd:rol><zcd:begindatum>2020-01-01</zcd:begindatum>"
                             "<zcd:gezagdrager>2</zcd:gezagdrager>") \
            .replace("<zcd:gezagdrager>2</zcd:gezagdrager></zcd:lid>",
                     "<zcd:gezagdrager>9</zcd:gezagdrager></zcd:lid>")
        assert expressions(xml(body), 422) == [
            "/zcd:bericht/zcd:gezin/zcd:lid[1]/zcd:gezagdrager",
            "/zcd:bericht/zcd:gezin/zcd:lid[3]/zcd:gezagdrager[2]"]

    def test_members_unborn_periods_and_numbers(self) -> None:
        body = GEZIN.replace('<zcd:lid nr="2">', '<zcd:lid nr="1">') \
            .replace("<zcd:lokaalId>u-1</zcd:lokaalId>",
                     f"<zcd:bsn>{CHILD}</zcd:bsn><zcd:geboortedatum>2099-01-01"
                     "</zcd:geboortedatum>") \
            .replace("<zcd:begindatum>2020-01-01</zcd:begindatum>",
                     "<zcd:begindatum>2020-01-01</zcd:begindatum>"
                     "<zcd:einddatum>2019-12-31</zcd:einddatum>")
        assert refused(xml(body), 422) == [
            ("/zcd:bericht/zcd:gezin/zcd:lid[1]/zcd:einddatum", "value"),
            ("/zcd:bericht/zcd:gezin/zcd:lid[2]/@nr", "duplicate"),
            ("/zcd:bericht/zcd:gezin/zcd:lid[4]/zcd:geboortedatum", "value"),
            ("/zcd:bericht/zcd:gezin/zcd:lid[4]", "value"),
            ("/zcd:bericht/zcd:gezin/zcd:lid[4]/zcd:lokaalId", "required"),
            ("/zcd:bericht/zcd:gezin/zcd:lid[3]/zcd:gezagdrager[2]", "value")]  # no nr 2

    def test_a_message_id_twice_in_a_bundle(self) -> None:
        inner = bericht("<zcd:casusSluiten><zcd:persoon><zcd:lokaalId>k</zcd:lokaalId>"
                        "</zcd:persoon><zcd:casusId>c</zcd:casusId></zcd:casusSluiten>",
                        "m-1", root=False)
        body = xml(f'<zcd:bundel xmlns:zcd="{NAMESPACE}" versie="1.0"><zcd:bundelId>b'
                   f"</zcd:bundelId>{inner}{inner}</zcd:bundel>")
        assert refused(body, 422) == [("/zcd:bundel/zcd:bericht[2]/zcd:berichtId",
                                       "duplicate")]


class TestOutbound:
    REFERRAL = OutboundMessage("nl.wijkgateway.referral.received", "ServiceRequest", "sr-1",
                               {"resourceType": "ServiceRequest", "status": "active",
                                "subject": {"identifier": {"value": MOTHER}}})
    TASK = OutboundMessage("nl.wijkgateway.referral.accepted", "Task", "t-1",
                           {"resourceType": "Task", "status": "accepted",
                            "focus": {"reference": "ServiceRequest/sr-1"}})
    CARE_TEAM = OutboundMessage("nl.wijkgateway.involvement.changed", "CareTeam", "ct-1", {
        "resourceType": "CareTeam", "participant": [
            {"member": {"identifier": {"system": "http://fhir.nl/fhir/NamingSystem/agb-z",
                                       "value": "01234567"}, "display": "Huisarts"},
             "period": {"start": "2026-11-01T09:00:00+01:00"}},
            {"member": {"identifier": {"system": "https://wijkgateway.nl/fhir/NamingSystem/"
                                                 "team", "value": "wijkteam-zuid"}}}]})

    @pytest.mark.parametrize("message", [REFERRAL, TASK, CARE_TEAM],
                             ids=["referral", "status", "involvement"])
    def test_rendered_notices_fit_the_xsd(self, message: OutboundMessage) -> None:
        document = ZCD.render(message, TEAM)
        assert isinstance(document, bytes)
        assert document.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
        ZCD.check_outbound(document)
        assert MOTHER.encode() not in document

    def test_what_a_notice_says(self) -> None:
        assert ZCD.render(self.TASK, TEAM).split(b"\n", 1)[1] == (
            f'<zcd:notificatie xmlns:zcd="{NAMESPACE}" versie="1.0">'
            "<zcd:gebeurtenis>nl.wijkgateway.referral.accepted</zcd:gebeurtenis>"
            "<zcd:ontvanger>wijkteam-noord</zcd:ontvanger><zcd:statuswijziging>"
            "<zcd:taakId>t-1</zcd:taakId><zcd:verwijzingId>sr-1</zcd:verwijzingId>"
            "<zcd:status>accepted</zcd:status></zcd:statuswijziging></zcd:notificatie>"
        ).encode()
        care_team = ZCD.render(self.CARE_TEAM, TEAM)
        assert b"<zcd:organisatie>agb:01234567</zcd:organisatie><zcd:sinds>2026-11-01" \
               b"</zcd:sinds>" in care_team
        assert b"<zcd:organisatie>wijkteam-zuid</zcd:organisatie></zcd:betrokkene>" in care_team

    def test_a_resource_it_does_not_carry(self) -> None:
        with pytest.raises(RenderError, match="zcd does not carry Consent"):
            ZCD.render(OutboundMessage("e", "Consent", "c-1", {}), TEAM)

    def test_the_check_names_what_does_not_fit(self) -> None:
        bad = ZCD.render(OutboundMessage("nl.wijkgateway.referral.accepted", "Task", "t 1",
                                         {"status": "Accepted!"}), TEAM)
        with pytest.raises(InvalidMessage) as raised:
            ZCD.check_outbound(bad)
        assert [i.expression for i in raised.value.issues] == [
            "/zcd:notificatie/zcd:statuswijziging/zcd:taakId",
            "/zcd:notificatie/zcd:statuswijziging/zcd:verwijzingId",
            "/zcd:notificatie/zcd:statuswijziging/zcd:status"]

    def test_only_a_notice_leaves(self) -> None:
        for document in (xml(CLOSE), {"kind": "referral"}, b"<x/>"):
            with pytest.raises(InvalidMessage) as raised:
                ZCD.check_outbound(document)
            assert [i.expression for i in raised.value.issues] == ["/"]


def test_the_schemas_are_published_side_by_side() -> None:
    assert ZCD.descriptor.schemas == ("xsd/zcd-bericht.xsd", "xsd/basisschema.xsd")
    message_schema = published_schema(ZCD, "zcd-bericht.xsd")
    assert message_schema is not None
    assert b'schemaLocation="basisschema.xsd"' in message_schema
    assert published_schema(ZCD, "basisschema.xsd") is not None
    assert published_schema(ZCD, "parse.py") is None


def test_the_schemas_ship_with_the_package() -> None:
    shipped = {p.name for p in (files("adapters.zcd") / "xsd").iterdir()}
    assert {"basisschema.xsd", "zcd-bericht.xsd"} <= shipped
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "zcd/xsd/*.xsd" in config["tool"]["setuptools"]["package-data"]["adapters"]


def test_the_adapter_imports_nothing_of_the_gateway() -> None:
    code = ("import sys, adapters.zcd; "
            "print([m for m in sys.modules if m == 'gateway' or m.startswith('gateway.')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    assert out.strip() == "[]"


def test_the_pages_examples_are_what_the_adapter_reads_and_writes() -> None:
    page = (ROOT / "docs" / "zcd.md").read_text()
    examples = [block.encode() for block in re.findall(r"```xml\n(.*?)```", page, re.S)]
    assert len(examples) == 3
    household, case, notice = examples
    message = parse(household)
    assert isinstance(message, RegisterHousehold) and len(message.authority) == 2
    assert isinstance(parse(case), OpenCase)
    ZCD.check_outbound(notice)
    bad = household.replace(b"<zcd:bsn>123456782</zcd:bsn>", b"<zcd:bsn>12345</zcd:bsn>") \
        .replace(b"2019-05-06", b"2019-05-06+02:00") \
        .replace(b"<zcd:rol>kind", b"<zcd:bijnaam>Pietje</zcd:bijnaam><zcd:rol>kind")
    with pytest.raises(InvalidMessage) as raised:
        parse(bad)
    shown = re.findall(r"^(/\S+) +(.+)$", page, re.M)
    assert [(i.expression, i.message) for i in raised.value.issues] == shown


def test_threads_share_the_adapter() -> None:
    good, bad = xml(GEZIN), xml(GEZIN.replace(FATHER, BAD_BSN))

    def run(_: int) -> list[bool]:
        results = []
        for body in (good, bad) * 25:
            try:
                ZCD.decode(body)
                results.append(True)
            except InvalidMessage:
                results.append(False)
        return results

    with ThreadPoolExecutor(4) as pool:
        assert all(r == [True, False] * 25 for r in pool.map(run, range(8)))


FIELDS = ("bsn", "lokaalId", "geslachtsnaam", "geboortedatum", "postcode", "rol", "begindatum",
          "gezagdrager", "gezinId", "berichtId")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(field=st.sampled_from(FIELDS),
       value=st.one_of(st.text(max_size=30),
                       st.from_regex(r"[A-Za-z ]{0,5}[0-9]{5,9}[A-Za-z ]{0,5}", fullmatch=True)),
       cut=st.integers(0, 2000), tail=st.binary(max_size=20))
def test_any_mutation_is_accepted_or_a_4xx_without_the_value(field: str, value: str, cut: int,
                                                            tail: bytes) -> None:
    """Replace one element's text, or cut the document and append bytes: the answer is a
    message or InvalidMessage (4xx), and a BSN-like value put in is never repeated."""
    escaped = value.replace("&", "&amp;").replace("<", "&lt;")
    start = f"<zcd:{field}>"
    head, _, rest = GEZIN.partition(start)
    mutated = head + start + escaped + rest[rest.index("<"):]
    for body in (xml(mutated), xml(GEZIN)[:cut] + tail):
        try:
            parse(body)
        except InvalidMessage as error:
            assert 400 <= error.status < 500
            said = str(error) + repr(error.issues)
            for digits in re.findall(r"[0-9]{5,}", value):  # a BSN-like run
                assert digits not in said
