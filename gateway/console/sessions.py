"""Console sessions kept on the server (OWASP ASVS 5.0 V7): the cookie carries a random token,
the table its SHA-256 digest, so logout, the idle limit and the absolute lifetime end a
session where it lives, and a copied cookie (or a copy of the table) opens nothing afterwards.
Never commits: the caller's transaction does."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from gateway.platform.db.models import ConsoleSession, Officer
from gateway.platform.db.types import utcnow

SEEN_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often


@dataclass(frozen=True)
class Lifetimes:
    idle: timedelta
    absolute: timedelta


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(session: Session, officer: Officer, lifetimes: Lifetimes) -> str:
    """A new session for ``officer``; returns the token for the cookie (shown once). Sessions
    past their absolute lifetime, which can never be used again, are deleted on the way."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.execute(delete(ConsoleSession).where(
        ConsoleSession.created_at < now - lifetimes.absolute))
    session.add(ConsoleSession(id=_digest(token), officer_id=officer.id, created_at=now,
                               last_seen_at=now))
    return token


def officer_of(session: Session, token: str, lifetimes: Lifetimes,
               now: datetime | None = None) -> Officer | None:
    """The officer of a live session, its last use noted; ``None`` for an unknown, ended,
    idle or too old one (which is ended here)."""
    now = now or utcnow()
    found = session.execute(select(ConsoleSession, Officer)
                            .join(Officer, Officer.id == ConsoleSession.officer_id)
                            .where(ConsoleSession.id == _digest(token))).first()
    if found is None or found[0].ended_at is not None:
        return None
    row, officer = found
    if now - row.last_seen_at > lifetimes.idle or now - row.created_at > lifetimes.absolute:
        row.ended_at = now
        return None
    if now - row.last_seen_at >= SEEN_EVERY:
        row.last_seen_at = now
    return officer


def end(session: Session, token: str) -> str | None:
    """End this session; returns its officer's username, or ``None`` if it was not live."""
    row = session.get(ConsoleSession, _digest(token))
    if row is None or row.ended_at is not None:
        return None
    row.ended_at = utcnow()
    return session.scalar(select(Officer.username).where(Officer.id == row.officer_id))


def end_all(session: Session, officer: Officer) -> None:
    """End every live session of ``officer`` (an account disabled)."""
    session.execute(update(ConsoleSession).where(ConsoleSession.officer_id == officer.id,
                                                 ConsoleSession.ended_at.is_(None))
                    .values(ended_at=utcnow()))
