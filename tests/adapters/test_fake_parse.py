"""The fake registry system's messages become canonical messages; every bad element is named,
and no value is repeated."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from adapters import InvalidMessage, get_adapter
from schemas import Identifier, PersonClaim, local_system
from schemas.household import household_system
from schemas.messages import CloseCase, OpenCase, RegisterHousehold, RegisterPerson
from tests.support.samples import VALID_BSNS

FAKE = get_adapter("fake")
MOTHER = {"bsn": VALID_BSNS[0], "familyName": "Jansen", "givenName": "Anna",
          "birthDate": "1988-03-04", "postcode": "1234AB"}
LOCAL = Identifier(system=local_system("fake"), value="k-7")


def _issues(document: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(InvalidMessage) as raised:
        FAKE.parse(document)
    assert VALID_BSNS[1] not in str(raised.value) and "Jansen" not in str(raised.value)
    return [(i.expression, i.code) for i in raised.value.issues]


def test_register_person_by_bsn_or_local_id() -> None:
    assert FAKE.parse({"kind": "register-person", "id": "m-1", "person": MOTHER}) == \
        RegisterPerson("m-1", PersonClaim(VALID_BSNS[0], None, "Jansen", "Anna",
                                          date(1988, 3, 4), "1234AB"))
    assert FAKE.parse({"kind": "register-person", "id": "m-2",
                       "person": {"localId": "k-7"}}).person == PersonClaim(None, LOCAL)


def test_register_household() -> None:
    message = FAKE.parse({"kind": "register-household", "id": "m-3", "household": {
        "localId": "h-1", "members": [
            {"person": MOTHER, "role": "parent", "start": "2020-01-01"},
            {"person": {"localId": "k-7", "birthDate": "2019-05-06"}, "role": "child"},
            {"person": {"localId": "u-1"}, "role": "unborn"}]}})
    assert isinstance(message, RegisterHousehold)
    assert message.household.local == Identifier(system=household_system("fake"), value="h-1")
    assert [(m.role, m.start) for m in message.household.members] == \
        [("parent", date(2020, 1, 1)), ("child", None), ("unborn", None)]
    assert message.household.members[1].person.local == LOCAL


def test_open_and_close_case() -> None:
    opened = FAKE.parse({"kind": "open-case", "id": "m-4", "person": {"localId": "k-7"},
                         "caseId": "c-1", "sensitivity": "veilig-thuis",
                         "start": "2026-11-01"})
    assert opened == OpenCase("m-4", PersonClaim(None, LOCAL), "c-1", "veilig-thuis",
                              date(2026, 11, 1))
    assert FAKE.parse({"kind": "close-case", "id": "m-5", "person": {"localId": "k-7"},
                       "caseId": "c-1"}) == CloseCase("m-5", PersonClaim(None, LOCAL), "c-1")


@pytest.mark.parametrize("document,issues", [
    ({"kind": "register-person", "id": "m", "person": {**MOTHER, "bsn": "123456789"}},
     [("person.bsn", "value")]),
    ({"kind": "register-person", "id": "m", "person": {"familyName": "Jansen"}},
     [("person", "required")]),
    ({"kind": "register-person", "id": "m"}, [("person", "required")]),
    ({"kind": "open-case", "id": "m", "person": {"localId": "k"}},
     [("caseId", "required")]),
    ({"kind": "close-case", "id": "m", "person": {"localId": "k"}, "caseId": "c",
      "sensitivity": "veilig-thuis"}, [("sensitivity", "structure")]),
    ({"kind": "merge", "id": "m"}, [("kind", "code-invalid")]),
    ({"kind": "register-person", "person": {"localId": "k"}}, [("id", "required")]),
    ({"kind": "register-person", "id": "m", "person": {"localId": "k", "name": "Jansen"}},
     [("person.name", "structure")]),
    ({"kind": "register-household", "id": "m", "household": {"members": [
        {"person": {"localId": "k"}, "role": "cousin"}]}},
     [("household.members[0].role", "code-invalid")]),
    ({"kind": "register-household", "id": "m", "household": {"members": [
        {"person": {"localId": "k", "birthDate": "2019-01-01"}, "role": "unborn"},
        {"person": {"localId": "j"}, "role": "child", "start": "2020-01-02",
         "end": "2020-01-01"}]}},
     [("household.members[0].person", "value"), ("household.members[1].end", "value")]),
    ({"kind": "register-household", "id": "m", "household": {"members": []}},
     [("household.members", "value")]),
], ids=["bsn-elfproef", "no-identifier", "no-person", "no-case", "element-of-another-kind",
        "unknown-kind", "no-id", "unknown-element", "unknown-role", "unborn-and-period",
        "no-members"])
def test_bad_input_names_the_element(document: dict[str, Any],
                                     issues: list[tuple[str, str]]) -> None:
    assert _issues(document) == issues
