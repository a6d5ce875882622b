"""Which active subscriptions match a change, given who may read the changed resource.

Statements run as Core: matching runs for every referral and status change, and building an
ORM select costs more than running it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, bindparam, func, or_, select
from sqlalchemy.orm import Session

from consent import Recipient
from gateway.platform.db.models import OAuthClient, SubscriptionRow, TaskRow

_SUBS, _CLIENTS = SubscriptionRow.__table__.c, OAuthClient.__table__.c
STYLE_FEED = "feed"  # notification_style of a subscription read as a feed (docs/webhooks.md)


@dataclass(frozen=True, slots=True)
class Subscriber:
    """A subscription and who receives through it: the client's team (or, without a team,
    the client itself) in the client's role, as consent decisions see recipients."""

    subscription_id: str
    recipient: Recipient
    feed_client: str | None = None  # a feed subscription's client: its notices wait in its feed
    client_id: str = ""  # the subscription's client


# Subscriptions whose client is not revoked, with the recipient each stands for.
_OF_CLIENTS = (select(_SUBS.id, func.coalesce(_CLIENTS.team_id, _CLIENTS.id), _CLIENTS.role,
                      _SUBS.client_id, _SUBS.notification_style)
               .join_from(SubscriptionRow.__table__, OAuthClient.__table__,
                          _CLIENTS.id == _SUBS.client_id)
               .where(_CLIENTS.revoked_at.is_(None)))
_ACTIVE = _OF_CLIENTS.where(_SUBS.status == "active")  # the ones new messages are queued for


def _active(resource_type: str) -> Select[Any]:
    return _ACTIVE.where(_SUBS.resource_type == resource_type).order_by(_SUBS.created_at)


_NEW_REFERRAL = _active("ServiceRequest").where(_CLIENTS.team_id == bindparam("team_id"))
_TASK_CHANGE = _active("Task").where(
    or_(_SUBS.focus_id.is_(None), _SUBS.focus_id == bindparam("service_request_id")),
    or_(_SUBS.client_id == bindparam("client_id"), _CLIENTS.team_id == bindparam("team_id")),
)


_OF_TEAMS = {kind: _active(kind).where(_SUBS.client_id != bindparam("sender"),
                                        _CLIENTS.team_id.in_(bindparam("teams", expanding=True)))
             for kind in ("EpisodeOfCare", "CarePlan")}


def subscribers_of_teams(session: Session, resource_type: str, sender: str,
                         teams: Collection[str]) -> list[Subscriber]:
    """The subscriptions to ``resource_type`` (a trajectory, ``EpisodeOfCare``, or a plan,
    ``CarePlan``) of these teams' systems, but the sender's."""
    if not teams:
        return []
    return _subscribers(session.connection().execute(
        _OF_TEAMS[resource_type], {"sender": sender, "teams": sorted(teams)}))


def subscribers_for_new_referral(session: Session, team_id: str) -> list[Subscriber]:
    """The receiving team's subscriptions to ``ServiceRequest``."""
    return _subscribers(session.connection().execute(_NEW_REFERRAL, {"team_id": team_id}))


def subscribers_for_task(session: Session, task: TaskRow) -> list[Subscriber]:
    """The referrer and the team's systems, for ``Task`` or ``Task?focus=`` this referral."""
    return _subscribers(session.connection().execute(_TASK_CHANGE, {
        "service_request_id": task.service_request_id, "client_id": task.client_id,
        "team_id": task.team_id}))


# One that still receives what was queued: active, or in error (its messages are retried).
_ONE = _OF_CLIENTS.where(_SUBS.status.in_(("active", "error")),
                         _SUBS.id == bindparam("subscription_id"))


def active_subscriber(session: Session, subscription_id: str) -> Subscriber | None:
    """The subscription, if what was queued for it may still be sent (it is active, or in
    ``error``: still retried) and its client is not revoked; a send-time decision needs it."""
    found = _subscribers(session.connection().execute(
        _ONE, {"subscription_id": subscription_id}))
    return found[0] if found else None


def _subscribers(rows: Any) -> list[Subscriber]:
    return [Subscriber(sub_id, Recipient(organization, role),
                       client_id if style == STYLE_FEED else None, client_id)
            for sub_id, organization, role, client_id, style in rows]
