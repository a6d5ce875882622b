"""Consent records as the policy core sees them, and who may give consent at which age.

A record is one version of one consent: revoking adds a newer version with ``active=False``,
so history is never overwritten. Only the newest version of each consent counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

Verdict = Literal["permit", "deny"]
# Who gave a record: "self" (the person), or a representative by ``Representative.id``.
Grantor = str
SELF: Grantor = "self"
# Records from before grantors were named (migration 0012) say only that "a parent or guardian"
# gave them, as the sender declared; they count as such while no authority holder is known.
UNNAMED_REPRESENTATIVE: Grantor = "representative"
CHILD_DECIDES_ALONE_FROM = 16  # Jeugdwet/WGBO: from 16 the young person decides alone
CHILD_CONSENTS_FROM = 12  # from 12 to 15 both the child and a parent or guardian


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """One version of a consent (permit) or objection (deny) of one person."""

    id: str
    version: int
    person_id: str
    activity_id: str
    verdict: Verdict
    grantors: frozenset[Grantor]
    active: bool = True
    recipient_organization: str | None = None  # one organisation, or
    recipient_role: str | None = None  # every organisation in a role, or neither: person-wide
    categories: frozenset[str] = frozenset()  # empty: every category of the activity
    start: datetime | None = None
    end: datetime | None = None

    def in_force(self, at: datetime) -> bool:
        return (self.active and (self.start is None or self.start <= at)
                and (self.end is None or at < self.end))


def current_versions(records: Iterable[ConsentRecord]) -> list[ConsentRecord]:
    """The newest version of each consent: a later revocation replaces what it revokes."""
    newest: dict[str, ConsentRecord] = {}
    for record in records:
        if record.id not in newest or record.version > newest[record.id].version:
            newest[record.id] = record
    return list(newest.values())


def age_on(birth_date: date, day: date) -> int:
    """Completed years on ``day`` (someone born on 29 February turns a year older on 1 March)."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def age_rule(age: int) -> str:
    """The id of the minors rule that applies, as decisions cite it."""
    if age < CHILD_CONSENTS_FROM:
        return "age-under-12"
    return "age-12-to-15" if age < CHILD_DECIDES_ALONE_FROM else "age-16-and-over"
