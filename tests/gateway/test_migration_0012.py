"""Migration 0012 names each consent's grantors; consents recorded before it keep what
``by_self``/``by_representative`` said: an unnamed parent's consent still counts while no
holder of authority is known. A downgrade drops the column again."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from sqlalchemy.orm import Session

from consent import UNNAMED_REPRESENTATIVE
from gateway.consents.repository import records_for
from gateway.platform.db.engine import make_engine
from gateway.platform.db.migrate import alembic_config, upgrade


def _columns(engine: sa.Engine) -> list[str]:
    return [c["name"] for c in sa.inspect(engine).get_columns("consent_records")]


def test_old_consents_keep_their_unnamed_representative(tmp_path) -> None:  # noqa: ANN001
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0011")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO oauth_clients (id, name, scopes, role, created_at) VALUES "
            "('team-1', 'Team', 'system/Consent.write', 'wijkteam', '2026-01-01')"))
        connection.execute(sa.text(
            "INSERT INTO persons (id, birth_date, created_at) VALUES "
            "('child', '2020-01-01', '2026-01-01')"))
        connection.execute(sa.text(
            "INSERT INTO consent_records (consent_id, version, person_id, activity_id, verdict, "
            "active, by_self, by_representative, categories, client_id, content_hash, "
            "resource, recorded_at) VALUES ('c1', 1, 'child', 'gp-referral-to-wijkteam', "
            "'permit', 1, 0, 1, '', 'team-1', 'h', '{}', '2026-02-01')"))
    upgrade(url, "0012")
    with Session(engine) as session:
        [record] = records_for(session, "child", "gp-referral-to-wijkteam")
        assert record.grantors == {UNNAMED_REPRESENTATIVE}
    with engine.connect() as connection:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.downgrade(config, "0011")
        connection.commit()
    assert "grantors" not in _columns(engine)
    engine.dispose()
