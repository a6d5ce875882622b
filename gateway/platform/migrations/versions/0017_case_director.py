"""the case director of a case: who directs it, as the system that opened it says

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02

``involvements`` gains ``director_worker`` (the worker's id in the sending system, never a
name) and ``director_organization`` (as the gateway names organisations), both empty for the
involvements there are and for any whose source names no director.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("involvements") as table:
        table.add_column(sa.Column("director_worker", sa.String(length=64), nullable=True))
        table.add_column(sa.Column("director_organization", sa.String(length=64),
                                   nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("involvements") as table:
        table.drop_column("director_organization")
        table.drop_column("director_worker")
