"""The identity review queue, of two kinds.

``conflict``: a message says something about a known person that contradicts what the
gateway knows (a different birth date for the same BSN). Neither is kept silently: the message
is accepted, its disclosure held back (``identity-conflict``), and a review is queued.
Resolving it as the same person releases what was held; as a different person keeps it held.
A conflict of fact ``household`` (a registration's adults together in more than one household,
docs/households.md) has resolutions of its own: ``same-household`` merges the new household
into the known one (``gateway.households.merging``, reversible), ``different-households`` keeps
them apart. A conflict of fact ``parental-authority`` is a claim of parental authority over a
child, made by a household message of a system whose team helps neither the child nor anyone
in a household with them (``gateway.persons.authority_claims``): it is not recorded until
``holds-authority`` records it (as the message said); ``no-authority`` refuses it for good.

``probable-match``: a new person looks like a known one (``gateway.identity.matching``). The
new person stays separate (nothing is held back); an administrator merges the two
(``gateway.identity.merging``, reversible) or keeps them apart. Never commits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from consent import Register
from gateway.audit import log as audit
from gateway.auth.bearer import Caller
from gateway.identity import repository
from gateway.identity.merging import ACTIVITY_IDENTITY, actor, merge_reviewed
from gateway.platform.db.models import IdentityReview, Person
from gateway.platform.db.types import utcnow
from gateway.platform.errors import Conflict, NotFound, Unprocessable
from gateway.platform.logging import get_logger

CONFLICT, PROBABLE_MATCH, HOUSEHOLD = "conflict", "probable-match", "household"
AUTHORITY = "parental-authority"  # a conflict's fact, with resolutions of its own
AUTHORITY_CONFIRMED, AUTHORITY_REFUSED = "holds-authority", "no-authority"
RESOLUTIONS_BY_KIND = {
    CONFLICT: {
        "known-is-right": "the same person; what the gateway knew stands",
        "claimed-is-right": "the same person; the message's value replaces the known one",
        "different-person": "not the same person; what was held stays held",
    },
    PROBABLE_MATCH: {
        "merge": "one resident: the new person is merged into the known one (reversible)",
        "keep-apart": "two residents: both stay as they are",
    },
    HOUSEHOLD: {
        "same-household": "one home: the new household is merged into the known one "
                          "(reversible)",
        "different-households": "two homes: both households stay as they are",
    },
    AUTHORITY: {
        AUTHORITY_CONFIRMED: "the parent holds parental authority over the child: it is "
                             "recorded now, as the message said",
        AUTHORITY_REFUSED: "the parent does not: it is never recorded, nor queued again",
    },
}
FACT_KINDS = (HOUSEHOLD, AUTHORITY)  # conflicts whose fact has resolutions of its own
RESOLUTIONS = {name: f"({kind}) {text}" for kind, resolutions in RESOLUTIONS_BY_KIND.items()
               for name, text in resolutions.items()}
MAX_COMMENT_LENGTH = 2000
# Applies a resolution to what the conflict held back (the referrals service's settle_identity).
Settle = Callable[[Session, Register, IdentityReview], dict[str, Any]]
# Merges a household review's two households (gateway.households.merging.merge_reviewed):
# the merge's id, or None when they are one household already.
MergeHouseholds = Callable[[Session, Caller | None, IdentityReview, str], str | None]
log = get_logger()


def queue_conflict(session: Session, *, person_id: str, fact: str, known: str | None,
                   claimed: str | None, source_ref: str, client_id: str,
                   candidate_id: str | None = None) -> IdentityReview:
    review = IdentityReview(kind=CONFLICT, person_id=person_id, candidate_id=candidate_id,
                            fact=fact, known_value=known, claimed_value=claimed,
                            source_ref=source_ref, client_id=client_id, status="open")
    session.add(review)
    session.flush()
    audit.record(session, kind="write", action="identity.conflict_queued",
                 actor_id=client_id, person_id=person_id,
                 details={"review": review.id, "fact": fact, "source": source_ref})
    log.warning("identity_conflict_queued", review_id=review.id, fact=fact)
    return review


def queue_probable_match(session: Session, *, person_id: str, candidate_id: str,
                         source_ref: str, client_id: str) -> IdentityReview:
    """A new person who may be a known one: both stay separate until an administrator says.
    The review carries no personal data: the two persons are named by id."""
    review = IdentityReview(kind=PROBABLE_MATCH, person_id=person_id, candidate_id=candidate_id,
                            fact="person", source_ref=source_ref, client_id=client_id,
                            status="open")
    session.add(review)
    session.flush()
    for person in (person_id, candidate_id):
        audit.record(session, kind="write", action="identity.probable_match_queued",
                     activity_id=ACTIVITY_IDENTITY, actor_id=client_id, person_id=person,
                     details={"review": review.id, "source": source_ref})
    log.info("identity_probable_match_queued", resource_id=review.id)
    return review


def queue_authority_claim(session: Session, *, child_id: str, parent_id: str, source_ref: str,
                          client_id: str, reserved: str) -> IdentityReview:
    """A claim of parental authority that waits for an administrator (``AUTHORITY``), once:
    the review of the same claim that is open, or that refused it, is the answer again (a
    system resends its household under new message ids). Names the child and the parent by
    id only; ``claimed`` is the RelatedPerson the claim becomes once confirmed (``reserved``:
    its id, which its sender is told as if it were recorded)."""
    return repository.authority_review(session, child_id, parent_id) or queue_conflict(
        session, person_id=child_id, fact=AUTHORITY, known=None,
        claimed=f"RelatedPerson/{reserved}", source_ref=source_ref, client_id=client_id,
        candidate_id=parent_id)


def resolution_kind(review: IdentityReview) -> str:
    """Which of ``RESOLUTIONS_BY_KIND`` a review takes: a household or an authority conflict
    its own."""
    return review.fact if review.fact in FACT_KINDS else review.kind


def resolve(session: Session, caller: Caller | None, register: Register, review_id: str,
            resolution: str, comment: str, resolved_by: str, settle: Settle, *,
            merge_households: MergeHouseholds) -> tuple[IdentityReview, dict[str, Any]]:
    """Settle one review, once (a conditional update: of two at the same time one gets 409).
    A conflict's outcome goes to ``settle``, which applies it to the message that was held
    back (``released``, ``consent``); a probable match resolved by ``merge`` merges its two
    persons, a household conflict resolved by ``same-household`` its two households
    (``merge``: the merge's id). A resolution of another kind is 422."""
    review = session.get(IdentityReview, review_id)
    if review is None:
        raise NotFound("no such identity review", expression="id")
    kind = resolution_kind(review)
    if resolution not in RESOLUTIONS_BY_KIND[kind]:
        raise Unprocessable(f"a {kind} review is resolved as one of: "
                            f"{', '.join(RESOLUTIONS_BY_KIND[kind])}",
                            expression="resolution")
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
    if kind == HOUSEHOLD:
        outcome = {"released": 0, **({"merge": merge_households(session, caller, review,
                                                                 resolved_by)}
                                     if resolution == "same-household" else {})}
    elif review.kind == CONFLICT:
        outcome = settle(session, register, review)
    elif resolution == "merge":
        outcome = {"released": 0, "merge": merge_reviewed(session, caller, review, resolved_by).id}
    else:
        outcome = {"released": 0}
    audit.record(session, kind="review", action="identity.resolved",
                 **actor(caller, resolved_by), person_id=review.person_id,
                 details={"review": review.id, "kind": review.kind,
                          "resolution": resolution, "released": outcome["released"],
                          **({"merge": outcome["merge"]} if outcome.get("merge") else {}),
                          **({"consent": outcome["consent"].split(":")[0]}
                             if "consent" in outcome else {})})
    log.info("identity_review_resolved", review_id=review.id, resolution=resolution,
             released=outcome["released"])
    return review, outcome


def review_json(review: IdentityReview) -> dict[str, object]:
    """What the API shows: the values are the person's data, shown only to administrators."""
    return {"id": review.id, "kind": review.kind, "patient": f"Patient/{review.person_id}",
            "candidate": f"Patient/{review.candidate_id}" if review.candidate_id else None,
            "fact": review.fact,
            "known": review.known_value, "claimed": review.claimed_value,
            "source": review.source_ref, "sender": review.client_id, "status": review.status,
            "resolution": review.resolution, "resolved_by": review.resolved_by,
            "resolved_at": review.resolved_at.isoformat() if review.resolved_at else None,
            "created_at": review.created_at.isoformat()}
