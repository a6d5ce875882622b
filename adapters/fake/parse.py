"""The fake registry system's JSON messages -> canonical messages (schemas.messages).

    {"kind": "register-person", "id": "m-1", "person": PERSON}
    {"kind": "register-household", "id": "m-2",
     "household": {"localId": "h-1", "members": [{"person": PERSON, "role": "parent",
                                                  "start": "2020-01-01", "end": null}]}}
    {"kind": "open-case", "id": "m-3", "person": PERSON, "caseId": "c-1",
     "sensitivity": "veilig-thuis", "start": "2026-11-01"}
    {"kind": "close-case", "id": "m-4", "person": PERSON, "caseId": "c-1", "end": "2026-12-01"}

    PERSON = {"bsn": "...", "localId": "p-1", "familyName": "...", "givenName": "...",
              "birthDate": "2015-04-01", "postcode": "1234AB"}   (a BSN or a localId)

Every problem is reported, each naming its element; no value is ever repeated."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from adapters.base import InvalidMessage, Issue
from schemas import Identifier, PersonClaim, is_valid_bsn, local_system, safe_name
from schemas.household import (
    MEMBER_ROLES,
    HouseholdClaim,
    MemberClaim,
    MemberRole,
    household_system,
)
from schemas.messages import (
    CloseCase,
    InboundMessage,
    OpenCase,
    RegisterHousehold,
    RegisterPerson,
)

SOURCE = "fake"
KINDS = ("register-person", "register-household", "open-case", "close-case")
Text = Field(min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$")  # an id: visible ASCII


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=False,
                              str_strip_whitespace=True)


class _Person(_Strict):
    bsn: str | None = None
    local_id: str | None = Field(None, min_length=1, max_length=255)
    family_name: str | None = Field(None, max_length=200)
    given_name: str | None = Field(None, max_length=200)
    birth_date: date | None = None
    postcode: str | None = Field(None, max_length=10)

    # Field checks here, not after validation, so a bad BSN is reported with a bad date.
    @field_validator("bsn")
    @classmethod
    def _elfproef(cls, bsn: str | None) -> str | None:
        if bsn is not None and not is_valid_bsn(bsn):
            raise ValueError("not a valid BSN (9 digits passing the elfproef)")
        return bsn

    @field_validator("birth_date")
    @classmethod
    def _not_future(cls, birth_date: date | None) -> date | None:
        if birth_date is not None and birth_date > date.today():
            raise ValueError("a birth date cannot be in the future")
        return birth_date


class _Member(_Strict):
    person: _Person
    role: MemberRole
    start: date | None = None
    end: date | None = None


class _Household(_Strict):
    local_id: str | None = Field(None, min_length=1, max_length=255)
    members: list[_Member] = Field(min_length=1, max_length=50)


class _Message(_Strict):
    kind: Literal["register-person", "register-household", "open-case", "close-case"]
    id: str = Text
    person: _Person | None = None
    household: _Household | None = None
    case_id: str | None = Field(None, min_length=1, max_length=255)
    sensitivity: Literal["veilig-thuis", "sensitive-care"] | None = None
    start: date | None = None
    end: date | None = None


NEEDS: dict[str, tuple[str, ...]] = {  # the elements each kind requires (JSON names)
    "register-person": ("person",),
    "register-household": ("household",),
    "open-case": ("person", "caseId"),
    "close-case": ("person", "caseId"),
}
ALLOWED: dict[str, frozenset[str]] = {
    "register-person": frozenset({"kind", "id", "person"}),
    "register-household": frozenset({"kind", "id", "household"}),
    "open-case": frozenset({"kind", "id", "person", "caseId", "sensitivity", "start"}),
    "close-case": frozenset({"kind", "id", "person", "caseId", "end"}),
}


def parse_message(document: dict[str, Any]) -> InboundMessage:
    """Validate one message and return it as a canonical message."""
    try:
        message = _Message.model_validate(document)
    except ValidationError as error:
        raise InvalidMessage(_issues(error)) from None
    issues = [Issue(name, "required element is missing", "required")
              for name in NEEDS[message.kind] if document.get(name) is None]
    issues += [Issue(safe_name(name), f"not an element of a {message.kind} message",
                     "structure") for name in sorted(set(document) - ALLOWED[message.kind])]
    if message.person is not None:
        _check_person(message.person, "person", issues)
    if message.household is not None:
        for i, member in enumerate(message.household.members):
            _check_person(member.person, f"household.members[{i}].person", issues,
                          unborn=member.role == "unborn")
            if member.start and member.end and member.end < member.start:
                issues.append(Issue(f"household.members[{i}].end",
                                    "the membership ends before it starts", "value"))
    if issues:
        raise InvalidMessage(issues)
    return _canonical(message)


def _canonical(message: _Message) -> InboundMessage:
    person = _claim(message.person) if message.person else None
    if message.kind == "register-person":
        assert person is not None
        return RegisterPerson(message.id, person)
    if message.kind == "register-household":
        household = message.household
        assert household is not None
        return RegisterHousehold(message.id, HouseholdClaim(
            local=Identifier(system=household_system(SOURCE), value=household.local_id)
            if household.local_id else None,
            members=tuple(MemberClaim(_claim(m.person), m.role, m.start, m.end)
                          for m in household.members)))
    assert person is not None and message.case_id is not None
    if message.kind == "open-case":
        return OpenCase(message.id, person, message.case_id, message.sensitivity,
                        message.start)
    return CloseCase(message.id, person, message.case_id, message.end)


def _claim(person: _Person) -> PersonClaim:
    return PersonClaim(
        bsn=person.bsn,
        local=Identifier(system=local_system(SOURCE), value=person.local_id)
        if person.local_id else None,
        family_name=person.family_name, given_name=person.given_name,
        birth_date=person.birth_date, postcode=person.postcode)


def _check_person(person: _Person, path: str, issues: list[Issue], unborn: bool = False) -> None:
    if person.bsn is None and person.local_id is None:
        issues.append(Issue(path, "identify the person by bsn or by localId", "required"))
    if unborn and (person.bsn is not None or person.birth_date is not None):
        issues.append(Issue(path, "an unborn child has no BSN and no birth date yet", "value"))


def _issues(error: ValidationError) -> list[Issue]:
    """One issue per pydantic error, named by its JSON path; never the value."""
    issues = []
    for err in error.errors(include_input=False, include_url=False):
        path = ""
        for part in err["loc"]:
            path += f"[{part}]" if isinstance(part, int) else \
                f"{'.' if path else ''}{safe_name(str(part))}"
        if err["type"] == "missing":
            issues.append(Issue(path, "required element is missing", "required"))
        elif err["type"] == "extra_forbidden":
            issues.append(Issue(path, "unknown element", "structure"))
        elif err["type"] == "literal_error" and path == "kind":
            issues.append(Issue(path, f"kind must be one of {', '.join(KINDS)}", "code-invalid"))
        elif err["type"] == "literal_error" and path.endswith("role"):
            issues.append(Issue(path, f"role must be one of {', '.join(MEMBER_ROLES)}",
                                "code-invalid"))
        elif err["type"] == "value_error":  # our own validators' text, without pydantic's prefix
            issues.append(Issue(path, str(err["ctx"]["error"]), "value"))
        else:
            issues.append(Issue(path, err["msg"], "value"))
    return issues
