"""Household and representation queries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gateway.db.models import RelatedPersonRow


def representations_in_force(session: Session, person_id: str,
                             at: datetime) -> Sequence[RelatedPersonRow]:
    return session.scalars(
        select(RelatedPersonRow).where(
            RelatedPersonRow.person_id == person_id,
            RelatedPersonRow.representation.is_not(None),
            or_(RelatedPersonRow.period_start.is_(None), RelatedPersonRow.period_start <= at),
            or_(RelatedPersonRow.period_end.is_(None), RelatedPersonRow.period_end > at))
        .order_by(RelatedPersonRow.created_at, RelatedPersonRow.id)).all()
