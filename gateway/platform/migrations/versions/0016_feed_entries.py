"""feed entries: notices a connected system polls for instead of receiving webhooks

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02

``feed_entries`` holds one row per outbox message of a feed subscription (``channel.type``
``message`` without an endpoint), written when the message becomes deliverable. ``seq`` only
grows (AUTOINCREMENT on SQLite). On PostgreSQL ``txid`` is filled by the server with the
writing transaction's id: a reader returns only entries of transactions older than every one
still in flight (its snapshot's xmin), so a row that commits late is never skipped by a cursor.
No existing rows change.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "feed_entries",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("outbox_id", sa.Integer(), sa.ForeignKey("outbox.id"), nullable=False),
        sa.Column("client_id", sa.String(length=64), sa.ForeignKey("oauth_clients.id"),
                  nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("txid", sa.BigInteger(), nullable=True,
                  server_default=sa.text("(pg_current_xact_id()::text)::bigint")
                  if postgres else None),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_feed_entries_client", "feed_entries", ["client_id", "txid", "seq"])


def downgrade() -> None:
    op.drop_index("ix_feed_entries_client", table_name="feed_entries")
    op.drop_table("feed_entries")
