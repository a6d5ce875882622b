"""adapter port: inbound message ids, the receiving system of a client

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01

``inbound_messages`` remembers each adapter message by its sender's own id (with a digest of
its body and the answer given, no content), so a replayed message changes nothing.
``oauth_clients.system`` names the adapter that renders what a client receives; empty means
``gp-referral`` (FHIR R4B), as every client before this revision received.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("oauth_clients") as batch:
        batch.add_column(sa.Column("system", sa.String(length=64), nullable=True))
    op.create_table(
        "inbound_messages",
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("system", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()),
                                                    "postgresql"), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["oauth_clients.id"]),
        sa.PrimaryKeyConstraint("client_id", "message_id"),
    )


def downgrade() -> None:
    op.drop_table("inbound_messages")
    with op.batch_alter_table("oauth_clients") as batch:
        batch.drop_column("system")
