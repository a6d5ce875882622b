"""resource version history for vread and _history

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

The current version of a resource stays in its own row (a create costs what it did); an update
copies the version it replaces into ``resource_versions`` in the same transaction. A DELETEd
Subscription keeps its row with ``deleted_at`` set, so a read can answer 410 (deleted) rather
than 404 (never existed), and a Subscription posted ``status: off`` stays readable.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "resource_versions",
        sa.Column("resource_type", sa.String(length=40), nullable=False),
        sa.Column("resource_id", sa.String(length=36), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("resource",
                  sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                  nullable=False),
        sa.Column("superseded_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("resource_type", "resource_id", "version_id"),
    )
    op.add_column("subscriptions", sa.Column("deleted_at", WHEN, nullable=True))


def downgrade() -> None:
    op.drop_column("subscriptions", "deleted_at")
    op.drop_table("resource_versions")
