"""Dutch identifiers: BSN (elfproef) and AGB, with the FHIR systems that carry them."""

from __future__ import annotations

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


def is_valid_bsn(value: str) -> bool:
    """True for a 9-digit number that passes the elfproef (weights 9..2 and -1, sum % 11 == 0).

    All zeros passes the arithmetic but is never issued, so it is refused.
    """
    if len(value) != 9 or not value.isascii() or not value.isdigit() or value == "000000000":
        return False
    return sum(int(d) * w for d, w in zip(value, _BSN_WEIGHTS, strict=True)) % 11 == 0


def is_valid_agb(value: str) -> bool:
    """True for an AGB code: exactly 8 ASCII digits (AGB has no public check digit)."""
    return len(value) == 8 and value.isascii() and value.isdigit()
