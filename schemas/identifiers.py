"""Dutch identifiers: BSN (elfproef), AGB, UZI and URA, with the FHIR systems that carry them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

BSN_SYSTEMS = frozenset(
    {"http://fhir.nl/fhir/NamingSystem/bsn", "urn:oid:2.16.840.1.113883.2.4.6.3"}
)
AGB_SYSTEMS = frozenset(
    {"http://fhir.nl/fhir/NamingSystem/agb-z", "urn:oid:2.16.840.1.113883.2.4.6.1"}
)
URA_SYSTEM = "http://fhir.nl/fhir/NamingSystem/ura"
BSN_SYSTEM = "http://fhir.nl/fhir/NamingSystem/bsn"
AGB_SYSTEM = "http://fhir.nl/fhir/NamingSystem/agb-z"

_BSN_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)


@lru_cache(maxsize=4096)  # asked for each claim many times over; bounded: values are input
def is_valid_bsn(value: str) -> bool:
    """True for a 9-digit number that passes the elfproef (weights 9..2 and -1, sum % 11 == 0).

    All zeros passes the arithmetic but is never issued, so it is refused.
    """
    if len(value) != 9 or not value.isascii() or not value.isdigit() or value == "000000000":
        return False
    return sum(int(d) * w for d, w in zip(value, _BSN_WEIGHTS, strict=True)) % 11 == 0


def is_valid_agb(value: str) -> bool:
    """True for an AGB code: exactly 8 ASCII digits (AGB has no public check digit)."""
    return AGB_KIND.is_valid(value)


@dataclass(frozen=True)
class IdentifierKind:
    """A Dutch care identifier: AGB (person or practice), UZI (person), URA (organisation).

    ``prefix`` names it in tokens the gateway stores (``ura:12345678``), the same form a
    client's practice is registered in; ``systems`` are its FHIR systems, preferred first.
    """

    prefix: str
    label: str
    systems: tuple[str, ...]
    digits: int

    @property
    def system(self) -> str:
        return self.systems[0]

    def is_valid(self, value: str) -> bool:
        """Exactly ``digits`` ASCII digits (none of the three has a public check digit)."""
        return len(value) == self.digits and value.isascii() and value.isdigit()

    def token(self, value: str) -> str:
        return f"{self.prefix}:{value}"


AGB_KIND = IdentifierKind("agb", "AGB code", (AGB_SYSTEM, "urn:oid:2.16.840.1.113883.2.4.6.1"), 8)
UZI_KIND = IdentifierKind("uzi", "UZI number", ("http://fhir.nl/fhir/NamingSystem/uzi-nr-pers",
                                                "urn:oid:2.16.528.1.1007.3.1"), 9)
URA_KIND = IdentifierKind("ura", "URA number", (URA_SYSTEM, "urn:oid:2.16.528.1.1007.3.3"), 8)
IDENTIFIER_KINDS = {kind.prefix: kind for kind in (AGB_KIND, UZI_KIND, URA_KIND)}
_BY_SYSTEM = {system: kind for kind in IDENTIFIER_KINDS.values() for system in kind.systems}


def kind_of_system(system: str | None) -> IdentifierKind | None:
    """The kind a FHIR identifier system names, if it is AGB, UZI or URA."""
    return _BY_SYSTEM.get(system or "")


def parse_identifier_token(token: str) -> tuple[IdentifierKind, str]:
    """``"ura:12345678"`` -> (URA, "12345678"); ValueError says what is wrong."""
    prefix, _, value = token.partition(":")
    kind = IDENTIFIER_KINDS.get(prefix)
    if kind is None:
        raise ValueError(f"start with one of {', '.join(p + ':' for p in IDENTIFIER_KINDS)}")
    if not kind.is_valid(value):
        raise ValueError(f"not a valid {kind.label} ({kind.digits} digits)")
    return kind, value
