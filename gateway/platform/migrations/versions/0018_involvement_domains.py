"""the life domains of a case: what a trajectory works on, as the system that opened it says

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02

``involvements`` gains ``domains``: the life domains of the case or trajectory that opened it
(the gateway's codes, space-separated), empty for the involvements there are and for any whose
source names none. A trajectory told to the other unit carries them, decided by consent.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("involvements") as table:
        table.add_column(sa.Column("domains", sa.String(length=400), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("involvements") as table:
        table.drop_column("domains")
