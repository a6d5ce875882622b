"""identity matching: local identifiers per source system, match keys, probable-match reviews
and reversible merges

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

A person may now have a local identifier in every source system: ``person_identifiers`` (unique
per system and value) replaces ``persons.local_system``/``local_value``. Each existing local id
moves there with the person's id as its own (one per person until now, so unique).
``persons.match_key`` is a digest of the name key, birth date and postcode that finds probable
matches. Identity reviews get a ``kind``: the existing ones are ``conflict``; ``probable-match``
reviews name a ``candidate``. ``person_merges`` records merges and their undoing.

Downgrade keeps each person's first local identifier (the only one before this revision).

On SQLite, dropping the old columns rebuilds ``persons``, which other tables reference: that
step runs with foreign keys off (only possible outside a transaction) and is checked after.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)
OLD_COLUMNS = ("local_system", "local_value")


def upgrade() -> None:
    op.create_table(
        "person_identifiers",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("person_id", sa.String(length=36), sa.ForeignKey("persons.id"),
                  nullable=False, index=True),
        sa.Column("system", sa.String(length=255), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.UniqueConstraint("system", "value"),
    )
    op.execute("INSERT INTO person_identifiers (id, person_id, system, value, created_at) "
               "SELECT id, id, local_system, local_value, created_at FROM persons "
               "WHERE local_system IS NOT NULL AND local_value IS NOT NULL")
    with _rebuilding_persons():
        with op.batch_alter_table("persons") as batch:
            _drop_local_unique(batch)
            for column in OLD_COLUMNS:
                batch.drop_column(column)
            batch.add_column(sa.Column("match_key", sa.String(length=64), nullable=True))
            batch.create_index("ix_persons_match_key", ["match_key"])
    with op.batch_alter_table("identity_reviews") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=16), nullable=False,
                                   server_default="conflict"))
        batch.add_column(sa.Column("candidate_id", sa.String(length=36), nullable=True))
        batch.create_foreign_key("fk_identity_reviews_candidate", "persons",
                                 ["candidate_id"], ["id"])
    with op.batch_alter_table("identity_reviews") as batch:  # new rows name their kind
        batch.alter_column("kind", server_default=None)
    op.create_table(
        "person_merges",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("survivor_id", sa.String(length=36), sa.ForeignKey("persons.id"),
                  nullable=False, index=True),
        sa.Column("merged_id", sa.String(length=36), sa.ForeignKey("persons.id"),
                  nullable=False, index=True),
        sa.Column("review_id", sa.String(length=36), sa.ForeignKey("identity_reviews.id"),
                  nullable=True),
        sa.Column("merged_by", sa.String(length=64), nullable=False),
        sa.Column("merged_at", WHEN, nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("undone_by", sa.String(length=64), nullable=True),
        sa.Column("undone_at", WHEN, nullable=True),
        sa.Column("undo_comment", sa.Text(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("person_merges")
    with op.batch_alter_table("identity_reviews") as batch:
        batch.drop_constraint("fk_identity_reviews_candidate", type_="foreignkey")
        batch.drop_column("candidate_id")
        batch.drop_column("kind")
    with _rebuilding_persons():
        with op.batch_alter_table("persons") as batch:
            batch.drop_index("ix_persons_match_key")
            batch.drop_column("match_key")
            for column in OLD_COLUMNS:
                batch.add_column(sa.Column(column, sa.String(length=255), nullable=True))
            batch.create_unique_constraint("persons_local_system_local_value_key",
                                           list(OLD_COLUMNS))
    op.execute("UPDATE persons SET "
               "local_system = (SELECT i.system FROM person_identifiers i WHERE "
               "i.person_id = persons.id ORDER BY i.created_at, i.id LIMIT 1), "
               "local_value = (SELECT i.value FROM person_identifiers i WHERE "
               "i.person_id = persons.id ORDER BY i.created_at, i.id LIMIT 1)")
    op.drop_table("person_identifiers")


def _drop_local_unique(batch: object) -> None:
    """0001 left the constraint unnamed: PostgreSQL named it, SQLite's rebuild drops it with
    its columns."""
    for unique in sa.inspect(op.get_bind()).get_unique_constraints("persons"):
        if sorted(unique["column_names"]) == sorted(OLD_COLUMNS) and unique["name"]:
            batch.drop_constraint(unique["name"], type_="unique")  # type: ignore[attr-defined]


@contextmanager
def _rebuilding_persons() -> Iterator[None]:
    """SQLite rebuilds ``persons`` to drop a column; its DROP TABLE would break every
    reference to it while foreign keys are on, and they can be turned off only between
    transactions. So the driver's transaction is cut here, under the one SQLAlchemy and
    Alembic hold (which still commits the rest). After the rebuild every reference must hold."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    driver = bind.connection.dbapi_connection
    assert driver is not None
    for statement in ("COMMIT", "PRAGMA foreign_keys=OFF", "BEGIN IMMEDIATE"):
        driver.execute(statement)
    yield
    if bind.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
        raise RuntimeError("rebuilding persons left a dangling reference")
    for statement in ("COMMIT", "PRAGMA foreign_keys=ON", "BEGIN IMMEDIATE"):
        driver.execute(statement)
