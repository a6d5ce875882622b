"""Consent queries. The decision read runs for every delivery, so its statement is built once
and reads only the columns the policy core needs."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from sqlalchemy import Select, bindparam, func, or_, select
from sqlalchemy.orm import Session

from consent import (
    SELF,
    UNNAMED_REPRESENTATIVE,
    ConsentRecord,
    Grantor,
    RepresentationKind,
    Representative,
)
from gateway.auth.bearer import Caller
from gateway.identity.merges import merge_set
from gateway.platform.db.driver import DriverRead
from gateway.platform.db.models import ConsentRow, Person, RelatedPersonRow

_C, _P, _R = ConsentRow.__table__.c, Person.__table__.c, RelatedPersonRow.__table__.c
_RESIDENT = merge_set(bindparam("person_id"))  # every person id the resident is
_RECORDS_QUERY = select(
    _C.consent_id, _C.version, _C.activity_id, _C.verdict, _C.active, _C.by_self,
    _C.by_representative, _C.grantors, _C.recipient_organization, _C.recipient_role,
    _C.categories, _C.period_start, _C.period_end,
).where(_C.person_id.in_(_RESIDENT), _C.activity_id == bindparam("activity_id"))


# About one referral: a consent that came inside another client's referral does not count.
_RECORDS = DriverRead(_RECORDS_QUERY)  # on the driver's cursor: every decision reads it
_RECORDS_FOR_SENDER = DriverRead(_RECORDS_QUERY.where(
    or_(_C.referral_sender.is_(None), _C.referral_sender == bindparam("sender"))))


def records_for(session: Session, person_id: str, activity_id: str,
                sender: str | None = None) -> list[ConsentRecord]:
    """Every version of every consent for this activity of the resident (every person id of
    its merge set), as records of ``person_id``; with ``sender`` (deciding about that
    client's referral), less those other senders' referrals carried."""
    params = {"person_id": person_id, "activity_id": activity_id}
    rows = _RECORDS.rows(session, params) if sender is None else _RECORDS_FOR_SENDER.rows(
        session, {**params, "sender": sender})
    return [to_record(person_id, row) for row in rows]


_WHO_DECIDES = DriverRead(select(
    _P.birth_date, _R.id, _R.representation, _R.period_start, _R.period_end,
).select_from(Person.__table__.outerjoin(
    RelatedPersonRow.__table__, _R.person_id.in_(_RESIDENT) & _R.representation.is_not(None),
)).where(_P.id == bindparam("person_id")).order_by(_R.created_at, _R.id))


def who_decides(session: Session, person_id: str
                ) -> tuple[date | None, tuple[Representative, ...]]:
    """The person's birth date and every representation of the resident (its merge set), in
    force or not: the consent engine keeps those in force when it decides. One read, as it
    runs for every decision."""
    rows = _WHO_DECIDES.rows(session, {"person_id": person_id})
    return rows[0][0] if rows else None, tuple(
        Representative(f"RelatedPerson/{row_id}", cast(RepresentationKind, kind), start, end)
        for _, row_id, kind, start, end in rows if row_id is not None)


# Rows from before migration 0012 name no grantors: by_self and by_representative say who
_UNNAMED: dict[tuple[bool, bool], frozenset[Grantor]] = {
    (s, r): frozenset(g for g, given in ((SELF, s), (UNNAMED_REPRESENTATIVE, r)) if given)
    for s in (False, True) for r in (False, True)}
_ALL_CATEGORIES: frozenset[str] = frozenset()


def to_record(person_id: str, row: Any) -> ConsentRecord:
    """A row of ``_RECORDS`` (unpacked by position: this runs for every record read)."""
    (consent_id, version, activity_id, verdict, active, by_self, by_representative, grantors,
     organization, role, categories, start, end) = row
    return ConsentRecord(
        consent_id, version, person_id, activity_id, verdict,
        frozenset(grantors.split()) if grantors
        else _UNNAMED[bool(by_self), bool(by_representative)], active, organization, role,
        frozenset(categories.split()) if categories else _ALL_CATEGORIES, start, end)


def visible_consents(caller: Caller) -> Select[tuple[ConsentRow]]:
    """Current versions of the consents recorded by the caller or by its team's systems."""
    newest = (select(ConsentRow.consent_id, func.max(ConsentRow.version).label("version"))
              .group_by(ConsentRow.consent_id).subquery())
    query = select(ConsentRow).join(newest, (ConsentRow.consent_id == newest.c.consent_id)
                                    & (ConsentRow.version == newest.c.version))
    if caller.team_id:
        return query.where((ConsentRow.client_id == caller.client_id)
                           | (ConsentRow.team_id == caller.team_id))
    return query.where(ConsentRow.client_id == caller.client_id)


def visible_ids(session: Session, caller: Caller, consent_ids: set[str]) -> set[str]:
    """Which of these consents the caller may read (its own or its team's)."""
    query = select(ConsentRow.consent_id).where(ConsentRow.consent_id.in_(consent_ids))
    own = ConsentRow.client_id == caller.client_id
    query = query.where(own | (ConsentRow.team_id == caller.team_id) if caller.team_id else own)
    return set(session.scalars(query.distinct())) if consent_ids else set()


def get_visible(session: Session, caller: Caller, consent_id: str) -> ConsentRow | None:
    return session.scalar(visible_consents(caller).where(ConsentRow.consent_id == consent_id))


def submitted_before(session: Session, caller: Caller, content_hash: str) -> ConsentRow | None:
    """The consent an identical earlier submission of this client created, while it is still
    in force: a retry. The same body after a revocation is a new consent, not a retry."""
    for consent_id in session.scalars(select(ConsentRow.consent_id).where(
            ConsentRow.client_id == caller.client_id, ConsentRow.content_hash == content_hash,
            ConsentRow.version == 1)):
        current = get_visible(session, caller, consent_id)
        if current is not None and current.active:
            return current
    return None


def related_person(session: Session, related_id: str) -> RelatedPersonRow | None:
    return session.get(RelatedPersonRow, related_id)


def versions(session: Session, consent_id: str) -> list[ConsentRow]:
    """Every version of a consent (its rows), newest first: its ``_history``."""
    return list(session.scalars(select(ConsentRow).where(ConsentRow.consent_id == consent_id)
                                .order_by(ConsentRow.version.desc())))
