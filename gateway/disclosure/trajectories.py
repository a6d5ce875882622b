"""A trajectory (a youth case, an adult support trajectory) told to the other systems that help
the same household, each in its own format, as the resident's consent allows.

- *Who hears*: the team systems subscribed to ``EpisodeOfCare`` whose team helps the person,
  or someone who shares a household with them, now; never the system that sent it.
- *What*: an ``EpisodeOfCare``: whose, which organisation's, on which life domains, since and
  until when; nothing of what is done.
- *On what basis*: ``trajectory-sharing``, for identification and the data categories its
  domains are (the register's ``life_domains``: debt is finances, upbringing is parenting),
  decided for the person it is about (a child's by whoever consents for the child at its age).
  It goes whole, when every one of those categories is permitted, or not at all, and is
  decided again right before it is sent: a consent revoked meanwhile stops it.
- Each subscriber hears of each change once: a case opened (or closed) again by a new message
  is no news (nor a way around a withholding).
- A case marked Veilig Thuis or sensitive care is never told this way (who else helps names
  those only on their own basis).
- A trajectory whose person is in doubt (a message about it gave a known BSN with another
  birth date: an identity conflict, ``EpisodeOfCare/{id}`` its review's source) is held, as
  a referral in doubt is (``identity-conflict``), whatever consent says, until the review
  confirms the person; then it is decided again and told as it stands (the referrals'
  ``settle``); found to be someone else's, it is never told.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from consent import Register
from gateway.disclosure.service import (
    REASON_IDENTITY_CONFLICT,
    disclose,
    episode_of_care,
    release_reviewed,
)
from gateway.households.repository import organizations_helping_household
from gateway.identity.repository import held_for_identity
from gateway.involvements.service import SENSITIVITY_NONE
from gateway.outbox.repository import already_told
from gateway.outbox.subscribers import Subscriber, subscribers_of_teams
from gateway.platform.db.models import IdentityReview, Involvement
from gateway.platform.db.types import utcnow
from schemas.events import (
    ACTIVITY_TRAJECTORIES,
    EVENT_TRAJECTORY_CLOSED,
    EVENT_TRAJECTORY_OPENED,
)

IDENTIFICATION = "identification"
EPISODE_OF_CARE = "EpisodeOfCare"


def _event(involvement: Involvement) -> str:
    return EVENT_TRAJECTORY_OPENED if involvement.ended_at is None else EVENT_TRAJECTORY_CLOSED


def _not_told_yet(session: Session, subscribers: list[Subscriber],
                  involvement: Involvement, event: str) -> list[Subscriber]:
    """Those not told of this change yet (an open, or a close, said again by a new message)."""
    told = already_told(session, [s.subscription_id for s in subscribers],
                        involvement.person_id, involvement.id, event)
    return [s for s in subscribers if s.subscription_id not in told]


def share_trajectory(session: Session, register: Register, involvement: Involvement,
                     sender: str) -> None:
    """Tell the other systems helping the household that ``involvement`` opened or closed
    (by its end), as the module says; ``sender``: the client that registered the change."""
    if involvement.sensitivity != SENSITIVITY_NONE:
        return
    subscribers = subscribers_of_teams(session, "EpisodeOfCare", sender,
                                       organizations_helping_household(
                                           session, involvement.person_id, utcnow()))
    event = _event(involvement)
    subscribers = _not_told_yet(session, subscribers, involvement, event)
    if not subscribers:
        return
    domains = (involvement.domains or "").split()
    held = held_for_identity(session, involvement.person_id, trajectory_ref(involvement.id))
    disclose(session, register, ACTIVITY_TRAJECTORIES, involvement.person_id, subscribers,
             event, episode_of_care(session, involvement),
             withhold=REASON_IDENTITY_CONFLICT if held else None,
             whole=frozenset({IDENTIFICATION}) | register.categories_of(domains))


def settle_trajectory(session: Session, register: Register,
                      review: IdentityReview) -> dict[str, Any]:
    """A trajectory held for its person, reviewed: the same person, its held messages are
    decided again and told as it stands, unless another review still holds it; someone
    else's, it stays held for good."""
    involvement_id = (review.source_ref or "").removeprefix(f"{EPISODE_OF_CARE}/")
    if held_for_identity(session, review.person_id, trajectory_ref(involvement_id)):
        return {"released": 0}
    return {"released": release_reviewed(session, register, EPISODE_OF_CARE, involvement_id)}


def trajectory_ref(involvement_id: str) -> str:
    """How an identity review names the trajectory it holds."""
    return f"{EPISODE_OF_CARE}/{involvement_id}"
