"""Which active subscriptions match a change, given who may read the changed resource."""

from __future__ import annotations

from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.orm import Session

from gateway.db.models import OAuthClient, SubscriptionRow, TaskRow


def _active(resource_type: str) -> Select[tuple[str]]:
    return (select(SubscriptionRow.id)
            .join(OAuthClient, OAuthClient.id == SubscriptionRow.client_id)
            .where(SubscriptionRow.status == "active",
                   SubscriptionRow.resource_type == resource_type,
                   OAuthClient.revoked_at.is_(None))
            .order_by(SubscriptionRow.created_at))


# Built once and run as Core: this runs for every referral, and building a select costs more
# than running it.
_SUBS, _CLIENTS = SubscriptionRow.__table__.c, OAuthClient.__table__.c
_NEW_REFERRAL = (select(_SUBS.id).join_from(SubscriptionRow.__table__, OAuthClient.__table__,
                                            _CLIENTS.id == _SUBS.client_id)
                 .where(_SUBS.status == "active", _SUBS.resource_type == "ServiceRequest",
                        _CLIENTS.revoked_at.is_(None), _CLIENTS.team_id == bindparam("team_id"))
                 .order_by(_SUBS.created_at))


def subscribers_for_new_referral(session: Session, team_id: str) -> list[str]:
    """Ids of the receiving team's subscriptions to ``ServiceRequest``."""
    return list(session.connection().scalars(_NEW_REFERRAL, {"team_id": team_id}))


def subscribers_for_task(session: Session, task: TaskRow) -> list[str]:
    """The referrer and the team's systems, for ``Task`` or ``Task?focus=`` this referral."""
    return list(session.scalars(_active("Task").where(
        or_(SubscriptionRow.focus_id.is_(None),
            SubscriptionRow.focus_id == task.service_request_id),
        or_(SubscriptionRow.client_id == task.client_id, OAuthClient.team_id == task.team_id),
    )))
