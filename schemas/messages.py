"""The canonical inbound messages a registry-style system sends (after its adapter parsed
them): who a person is, which household they form (and which parent holds parental authority
over which child), a case opened (with its case director) or closed for a person, a support
request, a signal, and a batch of these. Each carries the sender's own id for the message, so
a replayed message changes nothing. Codes are the gateway's own (English); each adapter maps
its system's codes to them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal, get_args

from schemas.household import HouseholdClaim
from schemas.person import PersonClaim
from schemas.plans import ChangePlan

Sensitivity = Literal["veilig-thuis", "sensitive-care"]
# The life domains a case, support request or signal is about (docs/zcd.md and
# docs/adult-records.md map each system's codes); the register files each under a data category
LifeDomain = Literal["parenting", "mental-health", "physical-health", "housing",
                     "intellectual-disability", "finances", "justice", "domestic-relations",
                     "social-network", "participation", "education", "addiction", "safety",
                     "work-and-education", "daily-activities", "daily-living"]
LIFE_DOMAINS: tuple[LifeDomain, ...] = get_args(LifeDomain)
# Who gave a signal (teams act on signals from these without a request for help)
SignalSource = Literal["neighbourhood", "child-health-clinic", "childcare", "school", "gp",
                       "community-police", "housing-corporation", "other"]


@dataclass(frozen=True)
class RegisterPerson:
    """The system knows this person (by BSN, or by its own local id only)."""

    message_id: str
    person: PersonClaim


@dataclass(frozen=True)
class ParentalAuthority:
    """A parent holds parental authority (*gezag*) over a child; both are members of the
    household claim they come with (the parent named by BSN, as the gateway requires)."""

    parent: PersonClaim
    child: PersonClaim


@dataclass(frozen=True)
class RegisterHousehold:
    """The system registers (or re-registers) a household and its members; ``authority``:
    who holds parental authority over whom, as far as the system says (empty: not said).
    ``where``: gives each part's place in the sender's document (``Group.member[1]``,
    ``Group.identifier``, ``authority[0]`` -> an XPath or JSON pointer), so that a refusal
    names the element as the sender wrote it; worked out only then, and not part of the
    message's content."""

    message_id: str
    household: HouseholdClaim
    authority: tuple[ParentalAuthority, ...] = ()
    where: Callable[[], Mapping[str, str]] | None = field(default=None, compare=False,
                                                          repr=False)


@dataclass(frozen=True)
class CaseDirector:
    """The case director (*casusregisseur*) of a case: the worker, by the sending system's id
    for them, and the organisation they work for (as the gateway names organisations:
    ``wijkteam-noord``, ``agb:01234567``, ``ura:...``)."""

    worker: str
    organization: str


@dataclass(frozen=True)
class OpenCase:
    """The system's organisation starts helping a person: an involvement opens.
    ``case_ref`` is the system's own id for the case; closing names it again. ``domains``:
    the life domains the case works on (what the other unit may learn of it, with consent)."""

    message_id: str
    person: PersonClaim
    case_ref: str
    sensitivity: Sensitivity | None = None
    start: date | None = None
    director: CaseDirector | None = None
    domains: tuple[LifeDomain, ...] = ()


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


@dataclass(frozen=True)
class SupportRequest:
    """A request for help (*hulpvraag*) for a person, about one or more life domains, as the
    system registered it (its own id ``request_ref``); no free text travels. ``referrer``:
    who referred, as iJw's COD327 code (``01`` municipality ... ``08`` judge)."""

    message_id: str
    person: PersonClaim
    request_ref: str
    received: date
    domains: tuple[LifeDomain, ...]
    referrer: str | None = None
    urgent: bool = False


@dataclass(frozen=True)
class Signal:
    """A signal (*signaal*) about a person who did not ask for help, from ``source``, on a
    day, possibly naming life domains; no free text travels."""

    message_id: str
    person: PersonClaim
    signal_ref: str
    observed: date
    source: SignalSource
    domains: tuple[LifeDomain, ...] = ()


InboundMessage = (RegisterPerson | RegisterHousehold | OpenCase | CloseCase | ProvisionRequest
                  | SupportRequest | Signal | ChangePlan)


@dataclass(frozen=True)
class Batch:
    """Several messages sent together (the system's id for the batch, ``message_id``); each
    keeps its own id, so a replayed batch or message changes nothing."""

    message_id: str
    messages: tuple[InboundMessage, ...]
