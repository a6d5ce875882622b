"""referral sender identifiers beyond AGB and team identifiers

A referral's requester was a personal AGB (``requester_agb``, 8 digits, required). nl-core
referrals may name only a UZI number, or only the practice (AGB or URA). ``requester`` holds
the professional as a token (``agb:01234567``, ``uzi:123456789``), ``requester_organization``
the practice (``agb:``/``ura:``); existing AGBs become ``agb:`` tokens. Teams get identifiers
(``team_identifiers``) by which a GP system may name them. See docs/referral-shapes.md.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLES = ("service_requests", "tasks")


def upgrade() -> None:
    # Plain ADD/DROP COLUMN, no batch copy: SQLite (3.35+) drops a column in place, where
    # copying service_requests would trip the foreign keys of the tasks that point at it.
    for table in TABLES:
        op.add_column(table, sa.Column("requester", sa.String(length=64), nullable=True))
        op.add_column(table, sa.Column("requester_organization", sa.String(length=64),
                                       nullable=True))
        op.execute(f"UPDATE {table} SET requester = 'agb:' || requester_agb")  # noqa: S608
        op.drop_column(table, "requester_agb")
    op.create_table(
        "team_identifiers",
        sa.Column("identifier", sa.String(length=64), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"]),
        sa.PrimaryKeyConstraint("identifier"),
    )
    op.create_index("ix_team_identifiers_organization_id", "team_identifiers",
                    ["organization_id"])


def downgrade() -> None:
    """Back to a required personal AGB. A referral sent without one (UZI or practice only)
    cannot be represented: the downgrade refuses rather than invent an AGB."""
    connection = op.get_bind()
    for table in TABLES:
        without_agb = connection.scalar(sa.text(
            f"SELECT count(*) FROM {table} WHERE requester IS NULL "  # noqa: S608
            "OR requester NOT LIKE 'agb:%'"))
        if without_agb:
            raise RuntimeError(f"cannot downgrade: {without_agb} row(s) of {table} have no "
                               "personal AGB (sent with a UZI number or a practice only)")
    op.drop_index("ix_team_identifiers_organization_id", table_name="team_identifiers")
    op.drop_table("team_identifiers")
    postgres = connection.dialect.name == "postgresql"
    for table in TABLES:
        # SQLite adds a NOT NULL column only with a default (it stays, harmless: every row
        # gets its AGB here); PostgreSQL adds it nullable and then requires it.
        op.add_column(table, sa.Column("requester_agb", sa.String(length=8),
                                       nullable=postgres,
                                       server_default=None if postgres else ""))
        op.execute(f"UPDATE {table} SET requester_agb = substr(requester, 5)")  # noqa: S608
        if postgres:
            op.alter_column(table, "requester_agb", existing_type=sa.String(length=8),
                            nullable=False)
        op.drop_column(table, "requester_organization")
        op.drop_column(table, "requester")
