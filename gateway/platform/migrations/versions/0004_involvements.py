"""involvements, the identity review queue, the people and roles a system may act for

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("oauth_clients") as batch:
        batch.add_column(sa.Column("organization", sa.String(length=64), nullable=True))
    with op.batch_alter_table("consent_records") as batch:
        batch.add_column(sa.Column("referral_sender", sa.String(length=64), nullable=True))
    op.create_table(
        "involvements",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("organization", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=36), sa.ForeignKey("persons.id"),
                  nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("source_ref", sa.String(length=100), nullable=True),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("ended_at", WHEN, nullable=True),
        sa.Column("registered_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
    )
    op.create_index("ix_involvements_person_organization", "involvements",
                    ["person_id", "organization"])
    _involve_by_earlier_referrals()
    op.create_table(
        "identity_reviews",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("person_id", sa.String(length=36), sa.ForeignKey("persons.id"),
                  nullable=False, index=True),
        sa.Column("fact", sa.String(length=32), nullable=False),
        sa.Column("known_value", sa.String(length=64), nullable=True),
        sa.Column("claimed_value", sa.String(length=64), nullable=True),
        sa.Column("source_ref", sa.String(length=100), nullable=True),
        sa.Column("client_id", sa.String(length=64), sa.ForeignKey("oauth_clients.id"),
                  nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False, index=True),
        sa.Column("resolution", sa.String(length=32), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("resolved_at", WHEN, nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
    )
    op.create_table(
        "client_actors",
        sa.Column("client_id", sa.String(length=64), sa.ForeignKey("oauth_clients.id"),
                  primary_key=True),
        sa.Column("actor_id", sa.String(length=64), primary_key=True),
        sa.Column("role", sa.String(length=32), primary_key=True),
        sa.Column("unit", sa.String(length=16), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
    )


def _involve_by_earlier_referrals() -> None:
    """Referrals received before involvement existed involve their sender and team, as new
    ones do (a team that rejected or cancelled one stopped then), so no team or GP loses
    access to the residents it already helps."""
    bind = op.get_bind()
    referrals = sa.table("service_requests", sa.column("id"), sa.column("client_id"),
                         sa.column("team_id"), sa.column("person_id"), sa.column("created_at"))
    tasks = sa.table("tasks", sa.column("service_request_id"), sa.column("status"),
                     sa.column("updated_at"))
    clients = sa.table("oauth_clients", sa.column("id"), sa.column("team_id"))
    involvements = sa.table(
        "involvements", *(sa.column(c) for c in (
            "id", "organization", "person_id", "source", "source_ref", "started_at",
            "ended_at", "registered_by", "created_at")))
    rows = bind.execute(
        sa.select(referrals.c.id, referrals.c.client_id, referrals.c.team_id,
                  referrals.c.person_id, referrals.c.created_at, clients.c.team_id,
                  tasks.c.status, tasks.c.updated_at)
        .join(clients, clients.c.id == referrals.c.client_id)
        .outerjoin(tasks, tasks.c.service_request_id == referrals.c.id)).all()
    now = datetime.now(UTC)
    batch = []
    for referral_id, client_id, team_id, person_id, created, sender_team, status, changed in rows:
        common = {"person_id": person_id, "source_ref": f"ServiceRequest/{referral_id}",
                  "started_at": created, "registered_by": client_id, "created_at": now}
        batch += [
            {**common, "id": str(uuid.uuid4()), "organization": sender_team or
             f"client:{client_id}", "source": "referral-sent", "ended_at": None},
            {**common, "id": str(uuid.uuid4()), "organization": team_id,
             "source": "referral-received",
             "ended_at": changed if status in ("rejected", "cancelled") else None}]
        if len(batch) >= 1000:
            bind.execute(involvements.insert(), batch)
            batch = []
    if batch:
        bind.execute(involvements.insert(), batch)


def downgrade() -> None:
    op.drop_table("client_actors")
    op.drop_table("identity_reviews")
    op.drop_index("ix_involvements_person_organization", table_name="involvements")
    op.drop_table("involvements")
    with op.batch_alter_table("consent_records") as batch:
        batch.drop_column("referral_sender")
    with op.batch_alter_table("oauth_clients") as batch:
        batch.drop_column("organization")
