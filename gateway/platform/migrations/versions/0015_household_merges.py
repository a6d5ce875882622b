"""household merges: two households found to be one home, reversibly

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02

``household_merges`` records each merge of a household into another (an identity review of
fact ``household`` resolved as ``same-household``, or an administrator's direct merge): who
and when, why, what moved (``moved``: the merged household's memberships and source ids as
they were, person ids only), and its undoing. Rows are never deleted. No existing rows change.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "household_merges",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("survivor_id", sa.String(length=36), sa.ForeignKey("households.id"),
                  nullable=False, index=True),
        sa.Column("merged_id", sa.String(length=36), sa.ForeignKey("households.id"),
                  nullable=False, index=True),
        sa.Column("review_id", sa.String(length=36), sa.ForeignKey("identity_reviews.id"),
                  nullable=True),
        sa.Column("merged_by", sa.String(length=64), nullable=False),
        sa.Column("merged_at", WHEN, nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("moved", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()),
                                                  "postgresql"), nullable=False),
        sa.Column("undone_by", sa.String(length=64), nullable=True),
        sa.Column("undone_at", WHEN, nullable=True),
        sa.Column("undo_comment", sa.Text(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("household_merges")
