"""What an identity review's resolution settles, by what its conflict held back (the
``settle`` that ``gateway.identity.service.resolve`` is given): a claim of parental authority
(fact ``parental-authority``), a trajectory (``EpisodeOfCare/{id}``), else a referral
(``ServiceRequest/{id}``; a message that held nothing back settles nothing)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from consent import Register
from gateway.disclosure.trajectories import settle_trajectory, trajectory_ref
from gateway.identity.service import AUTHORITY
from gateway.persons import settle_authority
from gateway.platform.db.models import IdentityReview
from gateway.referrals.service import settle_identity


def settle(session: Session, register: Register, review: IdentityReview) -> dict[str, Any]:
    if review.fact == AUTHORITY:
        return settle_authority(session, review)
    if (review.source_ref or "").startswith(trajectory_ref("")):
        return settle_trajectory(session, register, review)
    return settle_identity(session, register, review)
