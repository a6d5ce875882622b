"""Migration 0008: a referral's personal AGB becomes an ``agb:`` requester token, on both
backends, and back on downgrade; a referral with no personal AGB cannot go back, and says so."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command

from gateway.platform.db.engine import make_engine
from gateway.platform.db.migrate import alembic_config, upgrade

ROWS = ("INSERT INTO organizations (id, name, created_at) VALUES ('wijkteam-noord', 'Noord', "
        "'2026-01-01')",
        "INSERT INTO oauth_clients (id, name, scopes, role, created_at) VALUES ('gp-1', "
        "'Praktijk', 'system/ServiceRequest.write', 'huisarts', '2026-01-01')",
        "INSERT INTO persons (id, bsn, created_at) VALUES ('p-1', '111222333', '2026-01-01')",
        "INSERT INTO service_requests (id, version_id, client_id, team_id, person_id, "
        "requester_agb, resource, created_at, updated_at) VALUES ('sr-1', 1, 'gp-1', "
        "'wijkteam-noord', 'p-1', '01234567', '{}', '2026-02-01', '2026-02-01')",
        "INSERT INTO tasks (id, version_id, service_request_id, client_id, team_id, "
        "requester_agb, status, details, created_at, updated_at) VALUES ('t-1', 1, 'sr-1', "
        "'gp-1', 'wijkteam-noord', '01234567', 'requested', '{}', '2026-02-01', '2026-02-01')")



def _execute(url: str, *statements: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(sa.text(statement))
    engine.dispose()


def _rows(url: str, columns: str) -> list[tuple[object, ...]]:
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = [tuple(connection.execute(sa.text(
            f"SELECT {columns} FROM {table} ORDER BY id")).one())  # noqa: S608
            for table in ("service_requests", "tasks")]
    engine.dispose()
    return rows


def test_the_agb_survives_upgrade_and_downgrade(empty_url: str) -> None:
    upgrade(empty_url, "0007")
    _execute(empty_url, *ROWS)
    upgrade(empty_url)
    assert _rows(empty_url, "requester, requester_organization") == \
        [("agb:01234567", None)] * 2
    command.downgrade(alembic_config(empty_url), "0007")
    assert _rows(empty_url, "requester_agb") == [("01234567",)] * 2


def test_a_referral_without_personal_agb_blocks_the_downgrade(empty_url: str) -> None:
    upgrade(empty_url, "0007")
    _execute(empty_url, *ROWS)
    upgrade(empty_url)
    _execute(empty_url, "UPDATE service_requests SET requester = 'uzi:900012345'")
    with pytest.raises(RuntimeError, match=r"^cannot downgrade: 1 row\(s\) of service_requests "
                       r"have no personal AGB"):
        command.downgrade(alembic_config(empty_url), "0007")
    assert _rows(empty_url, "requester") == [("uzi:900012345",), ("agb:01234567",)]
