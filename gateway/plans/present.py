"""A plan as stored and as shown: its household's members (who is a minor), a stored version
read back, and the view one system gets (withheld items left out, the gateway's facts as
extensions). Shared by reads and by the pushes to other systems."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from gateway.audit import log as audit
from gateway.plans import fhir, repository, rules
from gateway.plans.visibility import ALL_LISTS, View
from gateway.platform.db.models import CarePlanRow
from schemas.plans import Plan

ADULT_AGE = 18


@dataclass(frozen=True)
class Household:
    """The plan's household as its rules need it: everyone who was ever in it (``current``,
    in order: a goal of a member who left is still theirs, decided and logged for them), who
    is in it today (``present``: whom a new item may name, who may agree), who is a minor."""

    id: str
    current: list[str]
    everyone: frozenset[str]
    present: frozenset[str]
    minors: frozenset[str]


def household_of(session: Session, household_id: str, today: date) -> Household:
    """The household's members, each one's BSN remembered for the processing log's entries
    about them in this transaction (no lookup of each again)."""
    rows = repository.members(session, household_id)
    for member, person in rows:
        if person.bsn:
            audit.remember_bsn(session, member.person_id, person.bsn)
    everyone = [m.person_id for m, _ in rows]
    present = frozenset(m.person_id for m, _ in rows
                        if (m.period_start is None or m.period_start <= today)
                        and (m.period_end is None or m.period_end >= today))
    minors = frozenset(m.person_id for m, person in rows
                       if (person.birth_date and age(person.birth_date, today) < ADULT_AGE)
                       or (person.birth_date is None and m.role in ("child", "unborn")))
    return Household(household_id, everyone, frozenset(everyone), present, minors)


def nameable(household: Household, current: Plan | None) -> frozenset[str]:
    """Whom an item may name: a member today, or one the plan names already (a member who
    has left keeps the goals and actions that were theirs)."""
    if current is None:
        return household.present
    named = {g.member for g in current.goals.values()} | \
        {a.member for a in current.actions.values()} | \
        {str(r.party.reference).removeprefix("Patient/") for r in current.roles
         if r.party.kind == "Patient"}
    return household.present | (named & household.everyone)


def age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def stored(resource: dict[str, Any]) -> Plan:
    """A stored version (or a view of one) as a plan: the gateway's own rendering, whose
    references are by id (read, not validated again)."""
    household = resource["subject"]["reference"].removeprefix("Group/")
    return fhir.read(resource, household, ALL_LISTS,
                      lambda ref, _: str(ref["reference"]).removeprefix("Patient/"))


def view_of(row: CarePlanRow, plan: Plan, seen: View, meta: dict[str, Any],
            household: Household, today: date) -> dict[str, Any]:
    """``plan`` as the system ``seen`` is about may see it."""
    visible = replace(plan, goals={k: g for k, g in plan.goals.items()
                                   if f"Goal/{k}" in seen.shown},
                      actions={k: a for k, a in plan.actions.items()
                               if f"Task/{k}" in seen.shown},
                      scores={k: s for k, s in plan.scores.items()
                              if f"Observation/{k}" in seen.shown})
    if seen.hidden:
        meta = {**meta, "security": [fhir.REDACTED]}
    return fhir.render(visible, row.id, ALL_LISTS, _extensions(row), meta,
                       rules.review_due(visible, household.minors, today))


def _extensions(row: CarePlanRow) -> list[dict[str, Any]]:
    """The household's agreement and the leaders' approvals of the current content."""
    extensions = []
    if row.agreement.get("version") == row.content_version:
        extensions.append({"url": fhir.AGREEMENT, "extension": [
            {"url": "by", "valueReference": {"reference": f"Patient/{row.agreement['by']}"}},
            {"url": "at", "valueDateTime": row.agreement["at"]}]})
    for part, approval in sorted(row.approvals.items()):
        if approval["version"] == row.content_version:
            extensions.append({"url": fhir.APPROVAL, "extension": [
                {"url": "part", "valueCode": part},
                {"url": "leader", "valueString": approval["leader"]},
                {"url": "at", "valueDateTime": approval["at"]}]})
    return extensions
