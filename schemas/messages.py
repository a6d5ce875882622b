"""The canonical inbound messages a registry-style system sends (after its adapter parsed
them): who a person is, which household they form, and a case opened or closed for a person.
Each carries the sender's own id for the message, so a replayed message changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from schemas.household import HouseholdClaim
from schemas.person import PersonClaim

Sensitivity = Literal["veilig-thuis", "sensitive-care"]


@dataclass(frozen=True)
class RegisterPerson:
    """The system knows this person (by BSN, or by its own local id only)."""

    message_id: str
    person: PersonClaim


@dataclass(frozen=True)
class RegisterHousehold:
    """The system registers (or re-registers) a household and its members."""

    message_id: str
    household: HouseholdClaim


@dataclass(frozen=True)
class OpenCase:
    """The system's organisation starts helping a person: an involvement opens.
    ``case_ref`` is the system's own id for the case; closing names it again."""

    message_id: str
    person: PersonClaim
    case_ref: str
    sensitivity: Sensitivity | None = None
    start: date | None = None


@dataclass(frozen=True)
class CloseCase:
    """The case ends: the involvement it opened closes."""

    message_id: str
    person: PersonClaim
    case_ref: str
    end: date | None = None


ProvisionStatus = Literal["requested", "in-progress", "granted", "refused", "withdrawn"]


@dataclass(frozen=True)
class ProvisionRequest:
    """A unit asks for a provision of the catalogue (voorzieningenboek) for a person, or says
    where such a request stands. ``request_ref`` is the system's own id for the request."""

    message_id: str
    person: PersonClaim
    request_ref: str
    provision: str
    status: ProvisionStatus
    on: date


InboundMessage = RegisterPerson | RegisterHousehold | OpenCase | CloseCase | ProvisionRequest
