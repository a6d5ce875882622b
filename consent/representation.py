"""Who speaks for a person, and for which data categories (Dutch civil law, BW book 1).

- ``parental-authority`` (*gezag*, per parent) and ``guardian`` (*voogd*, a person or a
  certified institution): every category, for a minor. A parent without authority is no
  representative at all, so never appears here.
- ``curator`` (*curatele*, BW 1:378): every category, for an adult.
- ``mentor`` (*mentorschap*, BW 1:450): care and personal matters, not financial ones.
- ``financial-administrator`` (*bewindvoerder*, BW 1:431): financial categories only.

Pure: the gateway loads these from its households (see DESIGN.md, B2) and hands them in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from schemas.household import RepresentationKind

AUTHORITY_KINDS: frozenset[RepresentationKind] = frozenset({"parental-authority", "guardian"})
FINANCIAL_CATEGORIES = frozenset({"finances"})  # the register's financial data categories


@dataclass(frozen=True, slots=True)
class Representative:
    """One representation of one person, as consent records name its grantor."""

    id: str  # how consent records name this grantor, e.g. "RelatedPerson/<id>"
    kind: RepresentationKind
    start: datetime | None = None
    end: datetime | None = None

    def in_force(self, at: datetime) -> bool:
        """From ``start`` until, not including, ``end``."""
        return (self.start is None or self.start <= at) and (self.end is None or at < self.end)


def speaks_for(kind: RepresentationKind, category: str) -> bool:
    """Whether a representative of this kind speaks for the person on ``category``."""
    if kind == "financial-administrator":
        return category in FINANCIAL_CATEGORIES
    if kind == "mentor":
        return category not in FINANCIAL_CATEGORIES
    return True
