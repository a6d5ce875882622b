"""households, their source identifiers and memberships; representations on related persons

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01

A household is one row however many systems registered it; each system's own id for it is a
``household_identifiers`` row, and each member a ``household_members`` row with a role and a
period (a person may be in several households, e.g. co-parenting after a divorce).
A related person may now hold a legal representation (``representation``: parental-authority,
guardian, mentor, curator, financial-administrator) for a period, a certified institution as
guardian is named by ``organization``, and ``relationship`` becomes optional (a mentor or a
bewindvoerder need not be family). Existing related persons hold no representation.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "households",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), sa.ForeignKey("oauth_clients.id"),
                  nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
    )
    op.create_table(
        "household_identifiers",
        sa.Column("system", sa.String(length=255), primary_key=True),
        sa.Column("value", sa.String(length=255), primary_key=True),
        sa.Column("household_id", sa.String(length=36), sa.ForeignKey("households.id"),
                  nullable=False, index=True),
        sa.Column("client_id", sa.String(length=64), sa.ForeignKey("oauth_clients.id"),
                  nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
    )
    op.create_table(
        "household_members",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("household_id", sa.String(length=36), sa.ForeignKey("households.id"),
                  nullable=False, index=True),
        sa.Column("person_id", sa.String(length=36), sa.ForeignKey("persons.id"),
                  nullable=False, index=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.UniqueConstraint("household_id", "person_id"),
    )
    with op.batch_alter_table("related_persons") as batch:
        batch.alter_column("relationship", existing_type=sa.String(length=16), nullable=True)
        batch.add_column(sa.Column("representation", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("organization", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("period_start", WHEN, nullable=True))
        batch.add_column(sa.Column("period_end", WHEN, nullable=True))


def downgrade() -> None:
    """Representations without a family relationship cannot go back: they are removed."""
    op.execute("DELETE FROM related_persons WHERE relationship IS NULL")
    with op.batch_alter_table("related_persons") as batch:
        batch.drop_column("period_end")
        batch.drop_column("period_start")
        batch.drop_column("organization")
        batch.drop_column("representation")
        batch.alter_column("relationship", existing_type=sa.String(length=16), nullable=False)
    op.drop_table("household_members")
    op.drop_table("household_identifiers")
    op.drop_table("households")
