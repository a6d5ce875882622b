"""The processing log and savepoints: an entry exists exactly when what it describes does. A
savepoint rolled back takes its own entries with it and no others; a savepoint released
writes nothing yet (a later rollback of an outer savepoint would take entries of the
transaction with it); the transaction's commit writes them all, in the order recorded."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gateway.audit import log as audit
from gateway.platform.db.models import ProcessingLogEntry


class Refused(Exception):
    """Raised inside a savepoint to roll it back."""


def _note(session: Session, action: str) -> None:
    audit.record(session, kind="write", action=action, actor_id="demo-huisarts")


def _logged(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return list(session.scalars(select(ProcessingLogEntry.action).order_by(
            ProcessingLogEntry.seq)))


def test_a_savepoint_rolled_back_takes_only_its_own_entries(
        sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        _note(session, "before")
        with pytest.raises(Refused), session.begin_nested():
            _note(session, "inside")
            raise Refused
        _note(session, "after")
    assert _logged(sessions) == ["before", "after"]


def test_an_outer_savepoint_rolled_back_after_an_inner_release_keeps_the_rest(
        sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        _note(session, "before")
        with pytest.raises(Refused), session.begin_nested():
            _note(session, "outer")
            with session.begin_nested():
                _note(session, "inner")
            raise Refused
        with session.begin_nested():
            _note(session, "kept")
    assert _logged(sessions) == ["before", "kept"]


def test_a_transaction_rolled_back_logs_nothing(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(Refused), sessions.begin() as session:
        _note(session, "gone")
        with session.begin_nested():
            _note(session, "gone too")
        raise Refused
    assert _logged(sessions) == []
