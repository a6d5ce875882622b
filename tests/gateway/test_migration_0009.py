"""Migration 0009 marks the subscriptions it finds as ``post-resource``, so their receivers
keep getting what they got (a POST of the resource to the endpoint); new rows name their own
style; a downgrade drops both columns again."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command

from gateway.platform.db.engine import make_engine
from gateway.platform.db.migrate import alembic_config, upgrade


def _columns(engine: sa.Engine) -> list[str]:
    return [c["name"] for c in sa.inspect(engine).get_columns("subscriptions")]


def test_existing_subscriptions_keep_their_post(tmp_path) -> None:  # noqa: ANN001
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0008")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO oauth_clients (id, name, scopes, role, created_at) VALUES "
            "('gp-1', 'Praktijk', 'system/Subscription.write', 'huisarts', '2026-01-01')"))
        connection.execute(sa.text(
            "INSERT INTO subscriptions (id, version_id, client_id, criteria, resource_type, "
            "endpoint, headers, status, created_at) VALUES ('sub-1', 1, 'gp-1', 'Task', "
            "'Task', 'https://r.example/hook', '{}', 'active', '2026-02-01')"))
    upgrade(url, "0009")
    with engine.begin() as connection:
        assert connection.execute(sa.text(
            "SELECT notification_style, error FROM subscriptions")).all() == \
            [("post-resource", None)]
        with pytest.raises(sa.exc.IntegrityError):  # no default left: new rows name theirs
            connection.execute(sa.text(
                "INSERT INTO subscriptions (id, version_id, client_id, criteria, "
                "resource_type, endpoint, headers, status, created_at) VALUES ('sub-2', 1, "
                "'gp-1', 'Task', 'Task', 'https://r.example/hook', '{}', 'active', "
                "'2026-02-01')"))
    assert {"notification_style", "error"} <= set(_columns(engine))
    with engine.connect() as connection:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.downgrade(config, "0008")
        connection.commit()
    assert not {"notification_style", "error"} & set(_columns(engine))
    engine.dispose()
