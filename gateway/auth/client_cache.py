"""Who a token's client is, re-read from the database at most every ``ttl`` seconds.

Checking the client on every request keeps revocation effective; a short cache keeps that
check off the hot path. Revocation therefore takes effect within ``ttl`` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from gateway.auth.clients import find_active_client, organization_of


@dataclass(frozen=True)
class ClientStatus:
    active: bool
    team_id: str | None
    role: str | None = None
    organization: str | None = None  # as the caller speaks for it (see ``organization_of``)


class ClientCache:
    def __init__(self, sessions: sessionmaker[Session], ttl: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.sessions = sessions
        self.ttl = ttl
        self.clock = clock
        self._entries: dict[str, tuple[float, ClientStatus]] = {}

    def cached(self, client_id: str) -> ClientStatus | None:
        """The fresh cached status, or None when the database must be asked (no I/O here)."""
        entry = self._entries.get(client_id)
        if entry is None or self.clock() - entry[0] >= self.ttl:
            return None
        return entry[1]

    def load(self, client_id: str) -> ClientStatus:
        with self.sessions() as session:
            row = find_active_client(session, client_id)
            status = ClientStatus(active=row is not None, team_id=row.team_id if row else None,
                                  role=row.role if row else None,
                                  organization=organization_of(row) if row else None)
        self._entries[client_id] = (self.clock(), status)
        return status
