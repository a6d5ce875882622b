"""The identity review queue. When a message says something about a known person that
contradicts what the gateway knows (a different birth date for the same BSN), neither is
kept silently: the message is accepted, its disclosure held back (``identity-conflict``), and
a review is queued. Resolving it as the same person releases what was held; resolving it as
a different person keeps it held until the identity is sorted out. Never commits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from consent import Register
from gateway.audit import log as audit
from gateway.auth.bearer import Caller
from gateway.db.models import IdentityReview, Person
from gateway.db.types import utcnow
from gateway.errors import Conflict, NotFound
from gateway.logging import get_logger

RESOLUTIONS = {
    "known-is-right": "the same person; what the gateway knew stands",
    "claimed-is-right": "the same person; the message's value replaces the known one",
    "different-person": "not the same person; what was held stays held",
}
MAX_COMMENT_LENGTH = 2000
# Applies a resolution to what the conflict held back (the referrals service's settle_identity).
Settle = Callable[[Session, Register, IdentityReview], dict[str, Any]]
log = get_logger()


def queue_conflict(session: Session, *, person_id: str, fact: str, known: str, claimed: str,
                   source_ref: str, client_id: str) -> IdentityReview:
    review = IdentityReview(person_id=person_id, fact=fact, known_value=known,
                            claimed_value=claimed, source_ref=source_ref, client_id=client_id,
                            status="open")
    session.add(review)
    session.flush()
    audit.record(session, kind="write", action="identity.conflict_queued",
                 actor_id=client_id, person_id=person_id,
                 details={"review": review.id, "fact": fact, "source": source_ref})
    log.warning("identity_conflict_queued", review_id=review.id, fact=fact)
    return review


def resolve(session: Session, caller: Caller | None, register: Register, review_id: str,
            resolution: str, comment: str, resolved_by: str, settle: Settle
            ) -> tuple[IdentityReview, dict[str, Any]]:
    """Settle one review, once (a conditional update: of two at the same time one gets 409),
    and hand its outcome to ``settle``, which applies it to the message that was held back.
    Returns the review and what ``settle`` reports (``released``, ``consent``)."""
    review = session.get(IdentityReview, review_id)
    if review is None:
        raise NotFound("no such identity review", expression="id")
    claimed = session.execute(
        update(IdentityReview).where(IdentityReview.id == review_id,
                                     IdentityReview.status == "open")
        .values(status="resolved", resolution=resolution, comment=comment,
                resolved_by=resolved_by, resolved_at=utcnow()))
    if claimed.rowcount != 1:
        raise Conflict("this review is resolved already", expression="id")
    session.refresh(review)
    if resolution == "claimed-is-right" and review.fact == "birth_date":
        person = session.get(Person, review.person_id)
        assert person is not None and review.claimed_value is not None
        person.birth_date = date.fromisoformat(review.claimed_value)
    outcome = settle(session, register, review)
    audit.record(session, kind="review", action="identity.resolved",
                 actor_type="client" if caller else "officer",
                 actor_id=caller.client_id if caller else resolved_by,
                 person_id=review.person_id,
                 details={"review": review.id, "resolution": resolution,
                          "released": outcome["released"],
                          **({"consent": outcome["consent"].split(":")[0]}
                             if "consent" in outcome else {})})
    log.info("identity_review_resolved", review_id=review.id, resolution=resolution,
             released=outcome["released"])
    return review, outcome


def review_json(review: IdentityReview) -> dict[str, object]:
    """What the API shows: the values are the person's data, shown only to administrators."""
    return {"id": review.id, "patient": f"Patient/{review.person_id}", "fact": review.fact,
            "known": review.known_value, "claimed": review.claimed_value,
            "source": review.source_ref, "sender": review.client_id, "status": review.status,
            "resolution": review.resolution, "resolved_by": review.resolved_by,
            "resolved_at": review.resolved_at.isoformat() if review.resolved_at else None,
            "created_at": review.created_at.isoformat()}
