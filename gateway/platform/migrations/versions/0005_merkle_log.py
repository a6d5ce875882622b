"""processing log as a Merkle tree with signed checkpoints; PostgreSQL roles

The hash chain becomes an RFC 9162 Merkle tree: each entry's ``hash`` is its leaf hash (the
chain's ``prev_hash`` goes), a purge keeps the leaves of what it removes in
``processing_log_leaves``, and checkpoints become signed notes. Existing entries get their leaf
hashes here; the old checkpoints were unsigned chain hashes and are dropped: run ``wijkgateway
audit checkpoint`` after upgrading to sign the first one. Entries purged before this revision
are represented by one placeholder leaf each, so numbering still matches positions in the
tree.

On PostgreSQL, the application's role (``app_role``: the ``-x app_role=...`` argument, else
``WIJKGATEWAY_DATABASE_APP_ROLE``) gets what it needs on every table but no UPDATE, DELETE or
TRUNCATE on the log's tables; purging goes through ``wijkgateway_purge_log``, a SECURITY
DEFINER function owned by the role running this migration (the owner). docs/threat-model.md.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import hashlib
import os

import sqlalchemy as sa
from alembic import context, op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

LOG_TABLES = ("processing_log", "processing_log_checkpoints", "processing_log_leaves")
# The line as this revision defines it (frozen here: later code may change its own copy).
COLUMNS = ("seq", "id", "recorded_at", "kind", "action", "outcome", "activity_id", "purpose",
           "legal_basis", "actor_type", "actor_id", "acting_person", "acting_role",
           "acting_unit", "sender", "recipient", "recipient_role", "subject", "subject_key",
           "categories", "confidentiality", "retention_years", "request_id", "trace_id",
           "details")
PURGED_BEFORE = hashlib.sha256(b"\x00purged before revision 0005").hexdigest()
BATCH = 5000

APPEND_ONLY = """
CREATE FUNCTION wijkgateway_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
"""
# Deletes only entries past their retention by the database's own clock, keeping their leaves;
# runs as its owner.
PURGE = """
CREATE FUNCTION wijkgateway_purge_log(p_through integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    removed integer;
BEGIN
    IF EXISTS (SELECT 1 FROM processing_log WHERE seq <= p_through AND recorded_at >= to_char(
            (now() AT TIME ZONE 'UTC') - make_interval(years => coalesce(retention_years, 0)),
            'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')) THEN
        RAISE EXCEPTION 'processing_log: entries up to % are not all past their retention',
            p_through USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO processing_log_leaves (seq, hash)
        SELECT seq, hash FROM processing_log WHERE seq <= p_through;
    DELETE FROM processing_log WHERE seq <= p_through;
    GET DIAGNOSTICS removed = ROW_COUNT;
    RETURN removed;
END $$;
"""


def app_role() -> str | None:
    role = context.get_x_argument(as_dictionary=True).get("app_role") \
        or context.config.attributes.get("app_role") \
        or os.environ.get("WIJKGATEWAY_DATABASE_APP_ROLE")
    return role or None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:  # the old trigger let a session setting through; replaced below
        for table in LOG_TABLES[:2]:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute("DROP FUNCTION wijkgateway_append_only()")
    with op.batch_alter_table("processing_log") as batch:
        batch.drop_column("prev_hash")
        for name in ("acting_person", "acting_role", "acting_unit"):
            batch.add_column(sa.Column(name, sa.Text(), nullable=True))
    op.create_table(
        "processing_log_leaves",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    _backfill_leaves()
    op.drop_table("processing_log_checkpoints")
    op.create_table(
        "processing_log_checkpoints",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("frontier", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    if postgres:
        _guard(app_role())


def _backfill_leaves() -> None:
    """Leaf hashes for the entries there are (over the new line), and placeholder leaves for
    the ones purged before."""
    bind = op.get_bind()
    log = sa.table("processing_log", *(sa.column(c) for c in (*COLUMNS, "hash")))
    leaves = sa.table("processing_log_leaves", sa.column("seq"), sa.column("hash"))
    first = bind.scalar(sa.select(sa.func.min(log.c.seq)))
    if first is None:
        return
    for start in range(1, first, BATCH):
        bind.execute(leaves.insert(), [{"seq": s, "hash": PURGED_BEFORE}
                                       for s in range(start, min(first, start + BATCH))])
    rows = bind.execute(sa.select(*(log.c[c] for c in COLUMNS)).order_by(log.c.seq)).all()
    for row in rows:
        leaf = hashlib.sha256(b"\x00" + "\x1f".join(
            "" if row._mapping[c] is None else str(row._mapping[c]) for c in COLUMNS
        ).encode()).hexdigest()
        bind.execute(log.update().where(log.c.seq == row.seq).values(hash=leaf))


def _guard(role: str | None) -> None:
    op.execute(APPEND_ONLY)
    op.execute("CREATE TRIGGER processing_log_append_only BEFORE UPDATE OR TRUNCATE "
               "ON processing_log FOR EACH STATEMENT EXECUTE FUNCTION "
               "wijkgateway_append_only()")
    for table in LOG_TABLES[1:]:
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
                   f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION wijkgateway_append_only()")
    op.execute(PURGE)
    op.execute("REVOKE ALL ON FUNCTION wijkgateway_purge_log(integer) FROM PUBLIC")
    if role is None:
        return
    quoted = op.get_bind().dialect.identifier_preparer.quote(role)
    op.execute(f"GRANT USAGE ON SCHEMA public TO {quoted}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public "
               f"TO {quoted}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, "
               f"DELETE ON TABLES TO {quoted}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES "
               f"TO {quoted}")
    for table in LOG_TABLES:
        op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {quoted}")
    op.execute(f"REVOKE INSERT ON processing_log_leaves FROM {quoted}")  # only a purge adds
    op.execute(f"GRANT EXECUTE ON FUNCTION wijkgateway_purge_log(integer) TO {quoted}")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        for table in LOG_TABLES:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute("DROP FUNCTION wijkgateway_purge_log(integer)")
        op.execute("DROP FUNCTION wijkgateway_append_only()")
    op.drop_table("processing_log_checkpoints")
    op.create_table(
        "processing_log_checkpoints",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.drop_table("processing_log_leaves")
    with op.batch_alter_table("processing_log") as batch:  # the old chain cannot come back
        for name in ("acting_unit", "acting_role", "acting_person"):
            batch.drop_column(name)
        batch.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=False,
                                   server_default=""))
    if postgres:
        op.execute("""
CREATE FUNCTION wijkgateway_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;""")
        for table in LOG_TABLES[:2]:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR "
                       f"TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION "
                       "wijkgateway_append_only()")
