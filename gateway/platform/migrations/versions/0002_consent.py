"""consent records, related persons, overrides; roles and decisions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("persons") as batch:
        batch.add_column(sa.Column("birth_date", sa.Date(), nullable=True))
    with op.batch_alter_table("oauth_clients") as batch:
        batch.add_column(sa.Column("role", sa.String(length=64), nullable=False,
                                   server_default="huisarts"))
    op.execute("UPDATE oauth_clients SET role = 'wijkteam' WHERE team_id IS NOT NULL")
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("decision", JSON, nullable=True))
    op.create_table(
        "related_persons",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("relationship", sa.String(length=16), nullable=False),
        sa.Column("bsn", sa.String(length=9), nullable=True),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("team_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["oauth_clients.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"]),
        sa.ForeignKeyConstraint(["team_id"], ["organizations.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_related_persons_person_id", "related_persons", ["person_id"])
    op.create_table(
        "consent_records",
        sa.Column("row_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("consent_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("activity_id", sa.String(length=64), nullable=False),
        sa.Column("verdict", sa.String(length=8), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("by_self", sa.Boolean(), nullable=False),
        sa.Column("by_representative", sa.Boolean(), nullable=False),
        sa.Column("recipient_organization", sa.String(length=64), nullable=True),
        sa.Column("recipient_role", sa.String(length=64), nullable=True),
        sa.Column("categories", sa.Text(), nullable=False),
        sa.Column("period_start", WHEN, nullable=True),
        sa.Column("period_end", WHEN, nullable=True),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("team_id", sa.String(length=64), nullable=True),
        sa.Column("worker", sa.String(length=255), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("resource", JSON, nullable=False),
        sa.Column("recorded_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["oauth_clients.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"]),
        sa.ForeignKeyConstraint(["team_id"], ["organizations.id"]),
        sa.PrimaryKeyConstraint("row_id"),
        sa.UniqueConstraint("consent_id", "version"),
    )
    op.create_index("ix_consent_records_person_activity", "consent_records",
                    ["person_id", "activity_id"])
    op.create_index("ix_consent_records_submission", "consent_records",
                    ["client_id", "content_hash"])
    op.create_table(
        "consent_overrides",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("activity_id", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("decision", JSON, nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("meldcode_step", sa.Integer(), nullable=False),
        sa.Column("review_status", sa.String(length=16), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["oauth_clients.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_consent_overrides_person_id", "consent_overrides", ["person_id"])
    op.create_index("ix_consent_overrides_review_status", "consent_overrides",
                    ["review_status"])


def downgrade() -> None:
    op.drop_table("consent_overrides")
    op.drop_table("consent_records")
    op.drop_table("related_persons")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("decision")
    with op.batch_alter_table("oauth_clients") as batch:
        batch.drop_column("role")
    with op.batch_alter_table("persons") as batch:
        batch.drop_column("birth_date")
