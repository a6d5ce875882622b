"""DriverRead: a statement run on the driver's cursor answers what SQLAlchemy's own execute
answers (bind and result types applied, literals bound), in the session's transaction, after
the session's autoflush; new_id's text is a random UUID, new_ordered_id's a time-ordered one."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import bindparam, literal, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from gateway.platform.db.driver import DriverRead, _result_processor
from gateway.platform.db.engine import make_engine
from gateway.platform.db.models import Involvement, Person, new_id, new_ordered_id
from gateway.platform.db.types import UTCDateTime

_I = Involvement.__table__.c
STATEMENT = (select(_I.organization, _I.started_at, _I.ended_at, literal("x").label("fixed"))
             .where(_I.person_id == bindparam("person_id"), _I.started_at <= bindparam("at"),
                    _I.sensitivity != "veilig-thuis")
             .order_by(_I.started_at))


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    """A session with one person, p1 (flushed, never committed)."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            session.add(Person(id="p1", bsn=None))
            session.flush()
            yield session
            session.rollback()
    finally:
        engine.dispose()


def test_rows_match_sqlalchemy_execute_in_the_session_transaction(session: Session) -> None:
    now = datetime.now(UTC)
    for i, (organization, sensitivity) in enumerate(
            [("team-a", "none"), ("ura:1", "veilig-thuis"), ("agb:2", "none")]):
        session.add(Involvement(
            organization=organization, person_id="p1", source="test",
            started_at=now - timedelta(days=10 - i),
            ended_at=now - timedelta(days=1) if i == 2 else None,
            registered_by="test", sensitivity=sensitivity))
    session.flush()  # not committed: the read sees the session's own transaction
    params = {"person_id": "p1", "at": now}
    rows = DriverRead(STATEMENT).rows(session, params)
    assert rows == [tuple(r) for r in session.execute(STATEMENT, params)]
    assert [r[0] for r in rows] == ["team-a", "agb:2"]
    assert rows[0][1].tzinfo is not None and rows[0][2] is None
    assert rows[1][2] == now - timedelta(days=1)
    assert rows[0][3] == "x"
    assert DriverRead(STATEMENT).rows(session, {"person_id": "p2", "at": now}) == []


def test_a_read_flushes_the_session_first_as_its_own_execute_does(session: Session) -> None:
    now = datetime.now(UTC)
    session.add(Involvement(organization="team-a", person_id="p1", source="test",
                            started_at=now - timedelta(days=1), registered_by="test",
                            sensitivity="none"))  # not flushed
    params = {"person_id": "p1", "at": now}
    with session.no_autoflush:
        assert DriverRead(STATEMENT).rows(session, params) == []
    assert [r[0] for r in DriverRead(STATEMENT).rows(session, params)] == ["team-a"]


def test_new_id_is_a_random_uuid4_text() -> None:
    ids = {new_id() for _ in range(2000)}
    assert len(ids) == 2000
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 4
        assert parsed.variant == uuid.RFC_4122


def test_new_ordered_id_is_a_version_7_uuid_text_in_time_order() -> None:
    before = datetime.now(UTC)
    ids = [new_ordered_id() for _ in range(2000)]
    assert len(set(ids)) == 2000
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 7
        assert parsed.variant == uuid.RFC_4122
    millis = [int(text.replace("-", "")[:12], 16) for text in ids]
    assert millis == sorted(millis)  # ids of later milliseconds sort after earlier ones
    assert abs(millis[0] - before.timestamp() * 1000) < 5000


def test_a_naive_datetime_is_refused_as_by_the_column_type(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session, pytest.raises(Exception, match="naive datetime"):
            DriverRead(STATEMENT).rows(session, {"person_id": "p1", "at": datetime.now()})
    finally:
        engine.dispose()


@pytest.mark.parametrize("text", ["2025-12-17 01:12:18.102120", "2025-12-17 01:12:18",
                                  "2025-12-17 01:12:18.102120+02:00", "2025-12-17",
                                  "2025-12-17T01:12:18.1", None])
def test_sqlite_utc_text_reads_as_the_column_type_reads_it(text: str | None) -> None:
    dialect, column = sqlite.dialect(), UTCDateTime()
    fast = _result_processor(column, dialect)
    assert fast is not None
    assert fast(text) == column._cached_result_processor(dialect, None)(text)
