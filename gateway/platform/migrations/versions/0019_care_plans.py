"""the household plan: one CarePlan per household, and each system's base version

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02

``care_plans`` holds each household's plan as FHIR with the gateway's own facts beside it
(who added each item, the household's agreement, the leaders' approvals); at most one plan per
household is open (draft or active), by a partial unique index. ``care_plan_bases`` remembers
the version each system last read, received or wrote and the items it saw of it, the base of
a change sent without ``If-Match``.
Older versions go to ``resource_versions`` as every versioned resource's do.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
WHEN = sa.DateTime(timezone=True)
_OPEN = sa.text("status IN ('draft', 'active')")


def upgrade() -> None:
    op.create_table(
        "care_plans",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("household_id", sa.String(36), sa.ForeignKey("households.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("version_id", sa.Integer, nullable=False),
        sa.Column("content_version", sa.Integer, nullable=False),
        sa.Column("client_id", sa.String(64), sa.ForeignKey("oauth_clients.id"), nullable=False),
        sa.Column("resource", JSON, nullable=False),
        sa.Column("sources", JSON, nullable=False),
        sa.Column("agreement", JSON, nullable=False),
        sa.Column("approvals", JSON, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
    )
    op.create_index("ix_care_plans_household_id", "care_plans", ["household_id"])
    op.create_index("ix_care_plans_updated_at", "care_plans", ["updated_at"])
    op.create_index("ix_care_plans_open_household", "care_plans", ["household_id"],
                    unique=True, sqlite_where=_OPEN, postgresql_where=_OPEN)
    op.create_table(
        "care_plan_bases",
        sa.Column("plan_id", sa.String(36), sa.ForeignKey("care_plans.id"), primary_key=True),
        sa.Column("client_id", sa.String(64), sa.ForeignKey("oauth_clients.id"),
                  primary_key=True),
        sa.Column("version_id", sa.Integer, nullable=False),
        sa.Column("seen", JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("care_plan_bases")
    op.drop_index("ix_care_plans_open_household", table_name="care_plans")
    op.drop_index("ix_care_plans_updated_at", table_name="care_plans")
    op.drop_index("ix_care_plans_household_id", table_name="care_plans")
    op.drop_table("care_plans")
