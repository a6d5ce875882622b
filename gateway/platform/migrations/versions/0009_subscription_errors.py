"""subscription error state and notification style

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

``notification_style`` says how a rest-hook is notified. Subscriptions stored before this
revision were notified by a POST of the resource to the endpoint itself; they are marked
``post-resource`` so nothing changes for them silently. New ones follow R4B (``put-resource``:
``PUT [endpoint]/{type}/{id}``; ``empty``: a bodyless POST). ``error`` holds why a subscription
is in status ``error`` (a fixed text, never a receiver's answer or personal data).
``updated_at``: when the current version was made (``meta.lastUpdated``; empty: created then).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("notification_style", sa.String(length=16), nullable=False,
                                   server_default="post-resource"))
        batch.add_column(sa.Column("error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("subscriptions") as batch:  # new rows name their style
        batch.alter_column("notification_style", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_column("updated_at")
        batch.drop_column("error")
        batch.drop_column("notification_style")
