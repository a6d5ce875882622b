"""Who must consent to one data category: the person, and every representative who speaks for
them on it. In order:

1. Under 12 the child does not decide; 12 to 15 the child decides with the holders of
   authority; from 16 the person decides (Jeugdwet art 7.3.4, WGBO art 7:447/7:450).
2. Under 16, every holder of parental authority and every guardian in force must consent
   (``authority-holders``); a parent without authority is not asked. While no holder is known
   at all, a parent or guardian the sender declared counts instead (``authority-unverified``):
   any grantor that is neither the person nor a known representative of another kind.
3. In the categories a curator (all), mentor (all but financial) or financial administrator
   (financial only) speaks for, each of them in force decides instead of the person (UAVG
   art 5(3)); the person's own objection still denies (AVG art 21, WGBO art 7:465(6)).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from consent.records import (
    CHILD_CONSENTS_FROM,
    CHILD_DECIDES_ALONE_FROM,
    SELF,
    ConsentRecord,
    Grantor,
)
from consent.representation import (
    AUTHORITY_KINDS,
    RepresentationKind,
    Representative,
    speaks_for,
)

DECLARED: Grantor = "declared"  # the party of sender-declared parents while no holder is known
KIND_NAMES: dict[RepresentationKind, str] = {
    "parental-authority": "a holder of parental authority", "guardian": "a guardian",
    "mentor": "a mentor", "curator": "a curator",
    "financial-administrator": "a financial administrator"}


@dataclass(frozen=True, slots=True)
class Party:
    """One party that must consent (or, ``objects_only``, whose objection still denies)."""

    key: Grantor  # SELF, a Representative.id, or DECLARED
    name: str  # how explanations name it: a role, never who it is
    rule: str | None = None  # the rule a decision cites when this party is asked
    objects_only: bool = False
    others: frozenset[Grantor] = frozenset()  # DECLARED: grantors that are someone else

    @property
    def cites(self) -> frozenset[str]:
        return frozenset({self.rule}) if self.rule else frozenset()

    def gave(self, record: ConsentRecord) -> bool:
        if self.key != DECLARED:
            return self.key in record.grantors
        return any(g != SELF and g not in self.others for g in record.grantors)


PERSON = Party(SELF, "the person")
PERSON_OBJECTING = Party(SELF, "the person", "person-objection-stands", objects_only=True)


def parties(age: int, representatives: Iterable[Representative],
            category: str) -> tuple[Party, ...]:
    """The parties for ``category`` at ``age``, given the representatives in force."""
    reps = {r.id: r for r in representatives}
    chosen: list[Party] = []
    if age < CHILD_DECIDES_ALONE_FROM:
        holders = [r for r in reps.values() if r.kind in AUTHORITY_KINDS]
        chosen += [Party(r.id, KIND_NAMES[r.kind], "authority-holders") for r in holders] or [
            Party(DECLARED, "a parent or guardian", "authority-unverified",
                  others=frozenset(reps))]
    speakers = [Party(r.id, KIND_NAMES[r.kind], f"{r.kind}-scope") for r in reps.values()
                if r.kind not in AUTHORITY_KINDS and speaks_for(r.kind, category)]
    if age >= CHILD_CONSENTS_FROM:
        chosen.append(PERSON_OBJECTING if speakers else PERSON)
    return tuple(chosen + speakers)


def counts_for(age: int, representatives: Iterable[Representative], grantor: Grantor,
               categories: Iterable[str]) -> frozenset[str]:
    """The categories among ``categories`` in which a record given by ``grantor`` is asked (its
    consent, or only its objection); empty: it would count for nothing."""
    probe = ConsentRecord("", 1, "", "", "permit", frozenset({grantor}))
    reps = tuple(representatives)
    return frozenset(c for c in categories if any(p.gave(probe) for p in parties(age, reps, c)))
