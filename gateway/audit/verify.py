"""Check the whole chain and name the first entry that was changed, removed or reordered.

The database builds each entry's line (the hashed columns, joined) in SQL, so the check reads
one short value per entry and spends its time hashing, as a check must.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Integer, String, cast, func, literal, select

from gateway.audit.chain import GENESIS, HASHED_COLUMNS, SEPARATOR, next_hash
from gateway.db.models import ProcessingLogCheckpoint, ProcessingLogEntry

_LOG, _CHECKPOINTS = ProcessingLogEntry.__table__, ProcessingLogCheckpoint.__table__
BATCH = 10_000


def _line_sql():  # noqa: ANN202 - a SQL expression
    parts = [func.coalesce(cast(_LOG.c[name], String) if isinstance(_LOG.c[name].type, Integer)
                           else _LOG.c[name], "") for name in HASHED_COLUMNS]
    expression = parts[0]
    for part in parts[1:]:
        expression = expression.op("||")(literal(SEPARATOR, String)).op("||")(part)
    return expression.label("line")


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int  # entries checked
    first_seq: int | None
    last_seq: int | None
    head_hash: str  # the chain's hash after the last entry: publish it to anchor the log
    checkpoints: int  # checkpoints matched
    problem: str | None = None
    bad_seq: int | None = None
    bad_id: str | None = None


def verify_chain(connection: Connection) -> Verification:
    start = connection.execute(
        select(_CHECKPOINTS.c.seq, _CHECKPOINTS.c.hash).where(_CHECKPOINTS.c.kind == "purge")
        .order_by(_CHECKPOINTS.c.seq.desc()).limit(1)).first()
    start_seq, prev = (start.seq, start.hash) if start else (0, GENESIS)
    marks = dict(connection.execute(select(_CHECKPOINTS.c.seq, _CHECKPOINTS.c.hash).where(
        _CHECKPOINTS.c.seq > start_seq, _CHECKPOINTS.c.kind == "periodic")).all())
    rows = connection.execution_options(stream_results=True, yield_per=BATCH).execute(
        select(_LOG.c.seq, _LOG.c.id, _LOG.c.prev_hash, _LOG.c.hash, _line_sql())
        .where(_LOG.c.seq > start_seq).order_by(_LOG.c.seq))
    expected, count, matched = start_seq + 1, 0, 0

    def failed(problem: str, seq: int, entry_id: str | None = None) -> Verification:
        return Verification(False, count, start_seq + 1, expected - 1, prev, matched, problem,
                            seq, entry_id)

    for seq, entry_id, prev_hash, stored, entry_line in rows:
        if seq != expected:
            return failed(f"entry {expected} was removed: the chain jumps from entry "
                          f"{expected - 1} to entry {seq}", expected)
        if prev_hash != prev:
            return failed(f"entry {seq} ({entry_id}) does not follow entry {seq - 1}: entries "
                          "were removed, inserted or reordered before it", seq, entry_id)
        if next_hash(prev, entry_line.encode()) != stored:
            return failed(f"entry {seq} ({entry_id}) was changed: its content does not match "
                          "its hash", seq, entry_id)
        if seq in marks:
            if marks.pop(seq) != stored:
                return failed(f"checkpoint at entry {seq} does not match the chain", seq,
                              entry_id)
            matched += 1
        prev, expected, count = stored, expected + 1, count + 1
    if marks:
        missing = min(marks)
        return failed(f"entries up to {missing} are missing: a checkpoint was made at entry "
                      f"{missing}, after the last entry {expected - 1}", missing)
    return Verification(True, count, start_seq + 1 if count else None,
                        expected - 1 if count else None, prev, matched)
