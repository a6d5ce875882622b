"""DriverInsert: rows inserted on the driver's cursor are the rows SQLAlchemy's own insert
writes (column types applied, defaults filled in), in the connection's transaction; the
driver's errors come out as SQLAlchemy's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.platform.db.driver import DriverInsert
from gateway.platform.db.engine import make_engine
from gateway.platform.db.models import (
    HouseholdMember,
    HouseholdRow,
    InboundMessage,
    OAuthClient,
    Person,
)

MEMBERS, MESSAGES = HouseholdMember.__table__, InboundMessage.__table__


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    engine = make_engine(database_url)
    with Session(engine) as session:
        session.add(OAuthClient(id="c", name="C", secret_hash=None, scopes="", role="wijkteam"))
        session.flush()
        session.add_all([Person(id="p1", bsn=None), Person(id="p2", bsn=None),
                         HouseholdRow(id="h1", client_id="c")])
        session.flush()
        yield session
        session.rollback()
    engine.dispose()


def test_rows_read_back_as_sqlalchemy_inserted_them(session: Session) -> None:
    connection = session.connection()
    given = {"household_id": "h1", "position": 0, "role": "parent",
             "period_start": date(2020, 1, 2), "period_end": None}
    connection.execute(MEMBERS.insert(), [{**given, "person_id": "p1"}])
    DriverInsert(MEMBERS).run(connection, [{**given, "person_id": "p2"}])
    rows = {row.person_id: row for row in connection.execute(select(MEMBERS))}
    core, driver = rows["p1"]._asdict(), rows["p2"]._asdict()
    assert len(driver["id"]) == 36 and driver["id"] != core["id"]  # the column default, per row
    assert {**driver, "id": None, "person_id": None} == {**core, "id": None, "person_id": None}


def test_json_and_utc_datetime_columns_convert_as_their_types_do(session: Session) -> None:
    connection = session.connection()
    moment = datetime(2026, 12, 2, 10, 11, 12, 345678, tzinfo=UTC)
    row = {"client_id": "c", "system": "zcd", "kind": "register-household",
           "request_hash": "0" * 64, "status_code": 201, "outcome": {"b": [1, "x"], "a": None},
           "received_at": moment}
    connection.execute(MESSAGES.insert(), [{**row, "message_id": "core"}])
    DriverInsert(MESSAGES).run(connection, [{**row, "message_id": "driver"}])
    read = {r.message_id: r._asdict() for r in connection.execute(select(MESSAGES))}
    assert read["driver"]["outcome"] == {"b": [1, "x"], "a": None}
    assert read["driver"]["received_at"] == moment
    assert {**read["driver"], "message_id": None} == {**read["core"], "message_id": None}
    del row["received_at"]
    DriverInsert(MESSAGES).run(connection, [{**row, "message_id": "now"}])
    assert connection.scalar(select(MESSAGES.c.received_at).where(
        MESSAGES.c.message_id == "now")) is not None  # the default, utcnow


def test_a_unique_violation_is_sqlalchemys_integrity_error(session: Session) -> None:
    connection = session.connection()
    row = {"household_id": "h1", "person_id": "p1", "position": 0, "role": "parent"}
    DriverInsert(MEMBERS).run(connection, [row])
    with pytest.raises(IntegrityError):
        DriverInsert(MEMBERS).run(connection, [row])


def test_a_row_without_a_required_column_is_refused(session: Session) -> None:
    with pytest.raises(ValueError, match="without role"):
        DriverInsert(MEMBERS).run(session.connection(), [
            {"household_id": "h1", "person_id": "p1", "position": 0}])
