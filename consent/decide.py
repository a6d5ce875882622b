"""Decide one exchange: may these recipients receive this person's data for this activity,
and which categories of it?

A pure function of the request, the person's consent records, the register and the time:

1. The activity must be in the register; categories outside its purpose are never permitted.
2. A recipient whose role the activity does not disclose to gets nothing.
3. The meldrecht override (only where the activity allows it) permits without consent.
4. An activity that does not require consent permits on its legal basis.
5. Otherwise, per category, each party that must consent at the person's age, given the
   representatives in force (see :mod:`consent.parties`), decides with its own records: the
   most specific record in force wins (named organisation > role > person-wide, then named
   categories > all), an objection wins at equal specificity, and no record at all means no
   consent. Every required party must permit; a party that may only object denies by objecting.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from consent.parties import Party, parties
from consent.records import (
    ConsentRecord,
    Grantor,
    Verdict,
    age_on,
    age_rule,
    current_versions,
)
from consent.register import ProcessingActivity, Register
from consent.representation import Representative
from schemas import shown


class DecisionError(ValueError):
    """The question cannot be decided as asked; the message names what is wrong."""

    def __init__(self, message: str, field_name: str) -> None:
        super().__init__(message)
        self.field_name = field_name


@dataclass(frozen=True, slots=True)
class Recipient:
    organization: str
    role: str


@dataclass(frozen=True, slots=True)
class Override:
    """Meldrecht (Wmo 2015 art 5.2.6): a report without consent, justified in writing."""

    justification: str
    meldcode_step: int


@dataclass(frozen=True)
class DecisionRequest:
    activity_id: str
    person_id: str
    birth_date: date | None
    recipients: tuple[Recipient, ...]
    at: datetime
    categories: frozenset[str] | None = None  # None: every category of the activity
    override: Override | None = None
    # who speaks for the person (the engine keeps those in force at ``at``)
    representatives: tuple[Representative, ...] = ()


@dataclass(frozen=True)
class RecipientDecision:
    recipient: Recipient
    verdict: Verdict
    permitted: frozenset[str]
    fields: frozenset[str]  # element paths this recipient may receive; empty when denied
    rules: tuple[str, ...]
    records: tuple[str, ...]
    activity_id: str
    reasons: tuple[tuple[str, str], ...]  # (denied category, why), sorted by category

    @property
    def denied(self) -> frozenset[str]:
        return frozenset(category for category, _ in self.reasons)

    @property
    def explanation(self) -> str:
        """One line a privacy officer can read; ids and category names only, no personal
        data. Built when asked: deliveries decide far more often than anyone reads why."""
        line = (f"{self.verdict}: {self.activity_id} to {self.recipient.organization} "
                f"({self.recipient.role})")
        if self.permitted:
            line += f"; permitted {', '.join(sorted(self.permitted))}"
        grouped: dict[str, list[str]] = {}
        for category, why in self.reasons:
            grouped.setdefault(why, []).append(category)
        for why, categories in grouped.items():
            line += f"; denied {', '.join(categories)}: {why}"
        return line


@dataclass(frozen=True)
class Decision:
    activity_id: str
    register_version: str
    recipients: tuple[RecipientDecision, ...]
    needs_review: bool = False  # an override was used: a privacy officer reviews it later

    def for_recipient(self, recipient: Recipient) -> RecipientDecision:
        return next(d for d in self.recipients if d.recipient == recipient)


@dataclass
class _Outcome:
    """How the categories for one recipient went, collected while deciding."""

    permitted: set[str] = field(default_factory=set)
    denied: dict[str, str] = field(default_factory=dict)  # category -> why
    rules: set[str] = field(default_factory=set)
    records: set[str] = field(default_factory=set)


def decide(register: Register, request: DecisionRequest,
           records: Iterable[ConsentRecord]) -> Decision:
    activity = register.activity(request.activity_id)
    if activity is None:
        raise DecisionError(f"unknown processing activity {shown(request.activity_id)}; see "
                            "GET /processing-activities", "activity")
    requested = activity.data_categories if request.categories is None else request.categories
    if unknown := sorted(requested - register.categories.keys()):
        raise DecisionError(f"unknown data categories: {', '.join(shown(c) for c in unknown)}",
                            "categories")
    if request.override and not activity.meldrecht_override:
        raise DecisionError(f"activity {activity.id} has no meldrecht override", "override")
    if not request.recipients:
        raise DecisionError("name at least one recipient", "recipients")
    relevant = [r for r in current_versions(records)
                if r.person_id == request.person_id and r.activity_id == activity.id]
    decisions = tuple(
        _for_recipient(register, activity, request, requested, recipient, relevant)
        for recipient in request.recipients)
    return Decision(activity.id, register.version, decisions,
                    needs_review=request.override is not None)


def _for_recipient(register: Register, activity: ProcessingActivity, request: DecisionRequest,
                   requested: frozenset[str], recipient: Recipient,
                   records: Sequence[ConsentRecord]) -> RecipientDecision:
    outcome = _Outcome(rules={f"activity:{activity.id}"})
    in_scope = requested & activity.data_categories
    for category in requested - in_scope:
        outcome.denied[category] = "outside the activity's purpose"
        outcome.rules.add("purpose-limitation")
    if recipient.role not in activity.recipient_roles:
        _deny_all(outcome, in_scope, "recipient-role-not-in-activity",
                  f"the activity does not disclose to role {recipient.role[:40]!r}")
    elif request.override is not None:
        outcome.permitted |= in_scope
        outcome.rules.add("meldrecht-override")
    elif not activity.requires_consent:
        outcome.permitted |= in_scope
        outcome.rules.add(f"legal-basis-{activity.legal_basis}")
    elif request.birth_date is None:
        _deny_all(outcome, in_scope, "age-unknown",
                  "the person's birth date is unknown, so who may consent is unknown")
    else:
        age = age_on(request.birth_date, request.at.date())
        outcome.rules.add(age_rule(age))
        in_force = [r for r in request.representatives if r.in_force(request.at)]
        addressed = [r for r in records if addressed_to(r, recipient) and r.in_force(request.at)]
        by_party: dict[Grantor, list[ConsentRecord]] = {}
        verdicts: dict[tuple[Grantor, str | None], _PartyVerdict] = {}
        for category in sorted(in_scope):
            _by_consent(outcome, category, parties(age, in_force, category), addressed,
                        by_party, verdicts)
    return _finish(register, activity, recipient, outcome)


def _deny_all(outcome: _Outcome, categories: frozenset[str], rule: str, why: str) -> None:
    outcome.rules.add(rule)
    for category in categories:
        outcome.denied[category] = why


_PartyVerdict = tuple[Verdict | None, list[ConsentRecord], set[str]]


def _by_consent(outcome: _Outcome, category: str, asked: tuple[Party, ...],
                addressed: Sequence[ConsentRecord], by_party: dict[Grantor, list[ConsentRecord]],
                verdicts: dict[tuple[Grantor, str | None], _PartyVerdict]) -> None:
    """Every party ``asked`` must permit ``category`` (one that only objects must not deny);
    the first that does not, denies it. ``addressed``: the records in force that address this
    recipient; ``by_party`` and ``verdicts`` remember, per party, its records and its answers
    (a party whose records name no categories answers alike for all)."""
    for party in asked:
        if party.key not in by_party:
            by_party[party.key] = [r for r in addressed if party.gave(r)]
        records = by_party[party.key]
        key = (party.key, category if any(r.categories for r in records) else None)
        if key not in verdicts:
            verdicts[key] = _party_verdict(records, category)
        verdict, deciding, rules = verdicts[key]
        if party.objects_only:
            if verdict == "deny":
                outcome.rules |= rules | party.cites
                outcome.records |= {r.id for r in deciding}
                outcome.denied[category] = f"{party.name} objected"
                return
            continue
        outcome.rules |= rules | party.cites
        outcome.records |= {r.id for r in deciding}
        if verdict != "permit":
            outcome.denied[category] = (f"{party.name} objected" if verdict == "deny"
                                        else f"no consent of {party.name}")
            return
    outcome.permitted.add(category)


def specificity(record: ConsentRecord) -> tuple[int, int]:
    """Named organisation > role > person-wide; then named categories > all categories."""
    recipient = 2 if record.recipient_organization else 1 if record.recipient_role else 0
    return recipient, 1 if record.categories else 0


def addressed_to(record: ConsentRecord, recipient: Recipient) -> bool:
    """The record names this organisation, or this role, or nobody (person-wide)."""
    return (record.recipient_organization in (None, recipient.organization)
            and record.recipient_role in (None, recipient.role))


def _party_verdict(records: Sequence[ConsentRecord], category: str) -> _PartyVerdict:
    """One party's answer: its most specific records for ``category``, an objection winning
    ties."""
    applicable = [r for r in records if not r.categories or category in r.categories]
    if not applicable:
        return None, [], {"no-consent-means-deny"}
    top = max(specificity(r) for r in applicable)
    best = [r for r in applicable if specificity(r) == top]
    rules = {"more-specific-wins"} if len(best) < len(applicable) else set()
    objections = [r for r in best if r.verdict == "deny"]
    if objections:
        if len(objections) < len(best):
            rules.add("objection-wins-at-equal-specificity")
        return "deny", objections, rules
    return "permit", best, rules


def _finish(register: Register, activity: ProcessingActivity, recipient: Recipient,
            outcome: _Outcome) -> RecipientDecision:
    permitted = frozenset(outcome.permitted)
    return RecipientDecision(
        recipient=recipient, verdict="permit" if permitted else "deny", permitted=permitted,
        fields=register.fields_for(permitted), rules=tuple(sorted(outcome.rules)),
        records=tuple(sorted(outcome.records)), activity_id=activity.id,
        reasons=tuple(sorted(outcome.denied.items())))
