"""Migration 0005 turns a hash-chained log into the Merkle tree: every entry's hash becomes its
leaf, entries purged before it get placeholder leaves, the old unsigned checkpoints go, and the
log verifies once the first checkpoint is signed."""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa

from gateway.api.processing_activities import load_register
from gateway.audit.chain import HASHED_COLUMNS, entry_leaf
from gateway.audit.keys import log_identity
from gateway.audit.leaves import PURGED_BEFORE_MERKLE, leaves
from gateway.audit.log import audit_context, audit_sessions
from gateway.audit.verify import verify_log
from gateway.audit.witness import checkpoint_now
from gateway.platform.db.engine import make_engine
from gateway.platform.db.migrate import upgrade
from gateway.platform.settings import Settings
from tests.conftest import BASE_URL, TEST_KEYS

OLD_COLUMNS = ("seq", "id", "recorded_at", "kind", "action", "outcome", "actor_type",
               "confidentiality", "prev_hash", "hash")


def test_an_old_chain_becomes_a_verifiable_tree(tmp_path) -> None:  # noqa: ANN001
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0004")
    engine = make_engine(url)
    with engine.begin() as connection:  # entries 1 and 2 were purged under the old chain
        for seq in (3, 4, 5):
            connection.execute(sa.text(
                f"INSERT INTO processing_log ({', '.join(OLD_COLUMNS)}) VALUES "  # noqa: S608
                "(:seq, :id, '2026-01-01T00:00:00.000000Z', 'write', 'test.old', 'ok', "
                "'system', 'normal', :prev, :hash)"),
                {"seq": seq, "id": f"id-{seq}", "prev": "p" * 64, "hash": "h" * 64})
        connection.execute(sa.text(
            "INSERT INTO processing_log_checkpoints (seq, hash, kind, created_at) "
            "VALUES (2, :h, 'purge', '2026-01-01')"), {"h": "c" * 64})
    engine.dispose()
    upgrade(url)
    tuned = Settings(environment="test", database_url=url, public_base_url=BASE_URL,
                     signing_key_path=tmp_path / "signing-key.json", **TEST_KEYS)
    context = audit_context(tuned, load_register(tuned.processing_activities_path))
    sessions = audit_sessions(make_engine(url), context)
    with sessions() as session:
        rows = session.execute(sa.text(
            f"SELECT {', '.join(HASHED_COLUMNS)}, hash FROM processing_log "  # noqa: S608
            "ORDER BY seq")).mappings().all()
        tree = [h for _, h in session.execute(leaves())]
        assert session.scalar(sa.text("SELECT count(*) FROM processing_log_checkpoints")) == 0
    placeholder = PURGED_BEFORE_MERKLE
    assert tree == [placeholder, placeholder, *(entry_leaf(r).hex() for r in rows)]
    assert [r["hash"] for r in rows] == tree[2:]
    with sessions() as session:
        unsigned = verify_log(session.connection(), context.identity, 2)
    assert (unsigned.ok, unsigned.bad_seq) == (False, 4)  # no signed checkpoint yet
    checkpoint_now(sessions)
    with sessions() as session:
        result = verify_log(session.connection(), log_identity(tuned), 2)
    assert dataclasses.astuple(result)[:4] == (True, 3, 3, 5)
    assert (result.tree_size, result.signed_size, result.checkpoints) == (5, 5, 1)
