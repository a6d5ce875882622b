"""The people a connected system may say it acts for, each with a role and, for a team's
worker, a unit. A system names the acting person per token (``gateway.auth.token_exchange``);
it may name only the people and roles registered for it here, so one system cannot speak for
another system's workers or promote a worker to team leader."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.platform.db.models import ClientActor, OAuthClient

ACTOR_ROLES = ("worker", "team-leader", "privacy-officer", "gp", "administrator")
UNITS = ("youth", "adult")
_ACTOR_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}")


class ActorRegistrationError(ValueError):
    pass


def add_actor(session: Session, client_id: str, actor_id: str, role: str,
              unit: str | None = None) -> ClientActor:
    """Allow ``client_id`` to act for ``actor_id`` in ``role`` (and ``unit``)."""
    if session.get(OAuthClient, client_id) is None:
        raise ActorRegistrationError(f"no client {client_id!r}")
    if not _ACTOR_ID.fullmatch(actor_id):
        raise ActorRegistrationError("an actor id is 1-64 letters, digits and . _ : - (the "
                                     "worker's id in the connected system, not a name)")
    if role not in ACTOR_ROLES:
        raise ActorRegistrationError(f"role must be one of: {', '.join(ACTOR_ROLES)}")
    if unit is not None and unit not in UNITS:
        raise ActorRegistrationError(f"unit must be one of: {', '.join(UNITS)}")
    if session.get(ClientActor, (client_id, actor_id, role)) is not None:
        raise ActorRegistrationError(f"{actor_id!r} is registered as {role} already")
    row = ClientActor(client_id=client_id, actor_id=actor_id, role=role, unit=unit)
    session.add(row)
    session.flush()
    return row


def remove_actor(session: Session, client_id: str, actor_id: str, role: str) -> None:
    """Stop a client acting for a person in a role (a worker who left). Tokens already issued
    keep working until they expire (``WIJKGATEWAY_ACCESS_TOKEN_TTL_SECONDS``)."""
    row = session.get(ClientActor, (client_id, actor_id, role))
    if row is None:
        raise ActorRegistrationError(f"{client_id!r} is not registered to act for "
                                     f"{actor_id!r} as {role}")
    session.delete(row)


def registered_actor(session: Session, client_id: str, actor_id: str,
                     role: str) -> ClientActor | None:
    return session.get(ClientActor, (client_id, actor_id, role))


def list_actors(session: Session, client_id: str) -> list[ClientActor]:
    return list(session.scalars(select(ClientActor).where(ClientActor.client_id == client_id)
                                .order_by(ClientActor.actor_id, ClientActor.role)))
