"""consent given by named grantors

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01

``grantors``: who gave each consent, space-separated: ``self`` and the representatives by id
(``RelatedPerson/{id}``), so the consent engine can ask every representative in force by name.
Rows recorded before this revision keep it empty: ``by_self`` and ``by_representative`` still
say who gave them (an unnamed parent or guardian, as the sender declared).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("consent_records") as batch:
        batch.add_column(sa.Column("grantors", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("consent_records") as batch:
        batch.drop_column("grantors")
