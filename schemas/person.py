"""What a source system says about a person, as far as the gateway needs it to tell who they
are: a BSN, the system's own identifier, and the few facts a probable match is judged on.
The name and postcode are read to build a matching key and are not stored as such."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from schemas.reference import Identifier

LOCAL_SYSTEM_PREFIX = "https://wijkgateway.nl/fhir/NamingSystem/local/"


def local_system(source: str) -> str:
    """The identifier system of a source system's own person ids (one per source)."""
    return f"{LOCAL_SYSTEM_PREFIX}{source}"


@dataclass(frozen=True)
class PersonClaim:
    """A person as one message names them. ``bsn`` is elfproef-checked by the adapter;
    ``local`` is the sender's own id for the person, in that sender's system."""

    bsn: str | None
    local: Identifier | None
    family_name: str | None = None
    given_name: str | None = None
    birth_date: date | None = None
    postcode: str | None = None
