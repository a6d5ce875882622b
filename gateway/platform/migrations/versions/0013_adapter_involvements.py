"""involvements from every system: sensitivity, and the index who-else-helps reads

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01

Adapters open and close involvements for the cases and trajectories their systems register
(``source_ref`` names the case; open and close are idempotent per organisation, person and
``source_ref``). ``sensitivity`` (none | veilig-thuis | sensitive-care) says whether
who-else-helps may name the organisation without a basis; rows stored before this revision
are ``none`` except those of an organisation whose client has the role ``veilig-thuis``.
The person's index now covers organisation, period and sensitivity, so both the involvement
check and who-else-helps are answered from the index alone.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

OLD_INDEX = "ix_involvements_person_organization"
NEW_INDEX = "ix_involvements_person_helpers"


def upgrade() -> None:
    with op.batch_alter_table("involvements") as batch:
        batch.add_column(sa.Column("sensitivity", sa.String(length=16), nullable=False,
                                   server_default="none"))
    with op.batch_alter_table("involvements") as batch:  # new rows name their sensitivity
        batch.alter_column("sensitivity", server_default=None)
    op.execute("UPDATE involvements SET sensitivity = 'veilig-thuis' WHERE organization IN ("
               "SELECT team_id FROM oauth_clients WHERE role = 'veilig-thuis' "
               "AND team_id IS NOT NULL UNION SELECT organization FROM oauth_clients "
               "WHERE role = 'veilig-thuis' AND organization IS NOT NULL UNION "
               "SELECT 'client:' || id FROM oauth_clients WHERE role = 'veilig-thuis')")
    op.drop_index(OLD_INDEX, table_name="involvements")
    op.create_index(NEW_INDEX, "involvements",
                    ["person_id", "organization", "started_at", "ended_at", "sensitivity"])


def downgrade() -> None:
    op.drop_index(NEW_INDEX, table_name="involvements")
    op.create_index(OLD_INDEX, "involvements", ["person_id", "organization"])
    with op.batch_alter_table("involvements") as batch:
        batch.drop_column("sensitivity")
