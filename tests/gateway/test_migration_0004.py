"""Migration 0004 involves the senders and teams of referrals made before involvement
existed, so nobody loses access on upgrade; a team that rejected a referral stopped then."""

from __future__ import annotations

import sqlalchemy as sa

from gateway.platform.db.engine import make_engine
from gateway.platform.db.migrate import upgrade

REFERRALS = {"sr-open": "requested", "sr-rejected": "rejected"}


def test_earlier_referrals_involve_their_sender_and_team(tmp_path) -> None:  # noqa: ANN001
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0003")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO organizations (id, name, created_at) VALUES "
            "('wijkteam-noord', 'Noord', '2026-01-01')"))
        connection.execute(sa.text(
            "INSERT INTO oauth_clients (id, name, scopes, role, created_at) VALUES "
            "('gp-1', 'Praktijk', 'system/ServiceRequest.write', 'huisarts', '2026-01-01')"))
        connection.execute(sa.text(
            "INSERT INTO persons (id, bsn, created_at) VALUES ('p-1', '111222333', "
            "'2026-01-01')"))
        for referral, status in REFERRALS.items():
            connection.execute(sa.text(
                "INSERT INTO service_requests (id, version_id, client_id, team_id, person_id, "
                "requester_agb, resource, created_at, updated_at) VALUES (:id, 1, 'gp-1', "
                "'wijkteam-noord', 'p-1', '01234567', '{}', '2026-02-01', '2026-02-01')"),
                {"id": referral})
            connection.execute(sa.text(
                "INSERT INTO tasks (id, version_id, service_request_id, client_id, team_id, "
                "requester_agb, status, details, created_at, updated_at) VALUES (:id, 1, "
                ":sr, 'gp-1', 'wijkteam-noord', '01234567', :status, '{}', '2026-02-01', "
                "'2026-03-01')"), {"id": f"task-{referral}", "sr": referral, "status": status})
    upgrade(url)
    with engine.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT organization, source, source_ref, ended_at IS NOT NULL FROM involvements "
            "ORDER BY source_ref, source")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [
        ("wijkteam-noord", "referral-received", "ServiceRequest/sr-open", False),
        ("client:gp-1", "referral-sent", "ServiceRequest/sr-open", False),
        ("wijkteam-noord", "referral-received", "ServiceRequest/sr-rejected", True),
        ("client:gp-1", "referral-sent", "ServiceRequest/sr-rejected", False)]

