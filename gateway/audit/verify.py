"""Check the whole chain and name the first entry that was changed, removed or reordered.

The database builds each entry's line (the hashed columns, joined) in SQL, so the check reads
one short value per entry and spends its time hashing, as a check must.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any

from sqlalchemy import Connection, Label, String, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from gateway.audit.chain import GENESIS, HASHED_COLUMNS, SEPARATOR, next_hash
from gateway.audit.log import record
from gateway.db.engine import make_engine
from gateway.db.models import ProcessingLogCheckpoint, ProcessingLogEntry

_LOG, _CHECKPOINTS = ProcessingLogEntry.__table__, ProcessingLogCheckpoint.__table__
BATCH = 10_000


class _Joined(FunctionElement[str]):
    """The hashed columns joined by the separator, NULL as empty, in one function call:
    ``printf`` on SQLite, ``format`` on PostgreSQL (both print NULL as '' for ``%s``). One call
    is several times faster than a chain of ``||`` and ``coalesce``."""

    type = String()
    inherit_cache = True


@compiles(_Joined, "sqlite")
def _printf(element: _Joined, compiler: Any, **kw: Any) -> str:
    return f"printf({compiler.process(element.clauses, **kw)})"


@compiles(_Joined, "postgresql")
def _format(element: _Joined, compiler: Any, **kw: Any) -> str:
    return f"format({compiler.process(element.clauses, **kw)})"


def _line_sql() -> Label[str]:
    template = literal(SEPARATOR.join(["%s"] * len(HASHED_COLUMNS)), String)
    return _Joined(template, *(_LOG.c[name] for name in HASHED_COLUMNS)).label("line")


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


@dataclass(frozen=True)
class Segment:
    """Entries after ``after_seq`` (whose chain hash is ``start_hash``) up to ``through_seq``
    (None: to the end), with the periodic checkpoints inside it to match."""

    after_seq: int
    start_hash: str
    through_seq: int | None
    marks: dict[int, str]


def plan(connection: Connection, parts: int = 1) -> list[Segment]:
    """The chain from the last purge checkpoint, cut at periodic checkpoints into at most
    ``parts`` segments. A checkpoint's hash is where the next segment starts, so segments can
    be checked side by side; each must end on that same hash, so together they check the whole
    chain as one pass would."""
    start = connection.execute(
        select(_CHECKPOINTS.c.seq, _CHECKPOINTS.c.hash).where(_CHECKPOINTS.c.kind == "purge")
        .order_by(_CHECKPOINTS.c.seq.desc()).limit(1)).first()
    start_seq, start_hash = (start.seq, start.hash) if start else (0, GENESIS)
    marks = dict(connection.execute(
        select(_CHECKPOINTS.c.seq, _CHECKPOINTS.c.hash).where(
            _CHECKPOINTS.c.seq > start_seq, _CHECKPOINTS.c.kind == "periodic")
        .order_by(_CHECKPOINTS.c.seq)).all())
    ordered = sorted(marks)
    cuts = [ordered[len(ordered) * k // parts] for k in range(1, parts)] if ordered else []
    bounds = [(start_seq, start_hash)] + [(c, marks[c]) for c in sorted(set(cuts))]
    return [Segment(after, first_hash, nxt[0] if nxt else None,
                    {seq: h for seq, h in marks.items()
                     if seq > after and (nxt is None or seq <= nxt[0])})
            for (after, first_hash), nxt in zip(bounds, [*bounds[1:], None], strict=True)]


def verify_chain(connection: Connection) -> Verification:
    """The whole chain in one pass."""
    [segment] = plan(connection)
    return verify_segment(connection, segment)


def verify_segment(connection: Connection, segment: Segment) -> Verification:
    query = select(_LOG.c.seq, _LOG.c.id, _LOG.c.prev_hash, _LOG.c.hash, _line_sql()).where(
        _LOG.c.seq > segment.after_seq).order_by(_LOG.c.seq)
    if segment.through_seq is not None:
        query = query.where(_LOG.c.seq <= segment.through_seq)
    compiled = query.compile(dialect=connection.dialect,
                             compile_kwargs={"render_postcompile": True})
    driver = connection.connection.driver_connection  # rows as plain tuples: fast
    # PostgreSQL streams through a server-side cursor; SQLite's cursor is lazy already.
    cursor = driver.cursor("verify") if connection.dialect.name == "postgresql" \
        else driver.cursor()
    cursor.execute(str(compiled), _positional(compiled, connection))
    marks = dict(segment.marks)
    prev, expected, count, matched = segment.start_hash, segment.after_seq + 1, 0, 0

    def failed(problem: str, seq: int, entry_id: str | None = None) -> Verification:
        return Verification(False, count, segment.after_seq + 1, expected - 1, prev, matched,
                            problem, seq, entry_id)

    while rows := cursor.fetchmany(BATCH):
        for seq, entry_id, prev_hash, stored, entry_line in rows:
            if seq != expected:
                return failed(f"entry {expected} was removed: the chain jumps from entry "
                              f"{expected - 1} to entry {seq}", expected)
            if prev_hash != prev:
                return failed(f"entry {seq} ({entry_id}) does not follow entry {seq - 1}: "
                              "entries were removed, inserted or reordered before it", seq,
                              entry_id)
            if next_hash(prev, entry_line.encode()) != stored:
                return failed(f"entry {seq} ({entry_id}) was changed: its content does not "
                              "match its hash", seq, entry_id)
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
    return Verification(True, count, segment.after_seq + 1 if count else None,
                        expected - 1 if count else None, prev, matched)


def _positional(compiled: Any, connection: Connection) -> Any:
    """The compiled statement's parameters in the driver's own style."""
    params = compiled.construct_params()
    if connection.dialect.paramstyle in ("qmark", "numeric", "format"):
        return tuple(params[name] for name in compiled.positiontup)
    return params


def verify_database(database_url: str, workers: int = 1) -> Verification:
    """The whole chain, in ``workers`` processes side by side (segments between checkpoints);
    the first problem in chain order is the one reported."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            segments = plan(connection, max(1, workers))
    finally:
        engine.dispose()
    if len(segments) == 1:
        return _verify_in_process(database_url, segments[0])
    with ProcessPoolExecutor(len(segments), mp_context=get_context("fork")) as pool:
        results = list(pool.map(_verify_in_process, [database_url] * len(segments), segments))
    for result in results:
        if not result.ok:
            return result
    counted = [r for r in results if r.entries]
    return Verification(
        True, sum(r.entries for r in results), counted[0].first_seq if counted else None,
        counted[-1].last_seq if counted else None,
        results[-1].head_hash, sum(r.checkpoints for r in results))


def _verify_in_process(database_url: str, segment: Segment) -> Verification:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return verify_segment(connection, segment)
    finally:
        engine.dispose()


def record_verification(session: Session, result: Verification, actor_type: str,
                        actor_id: str | None = None) -> None:
    """A check is itself logged: the console's chain page shows the latest."""
    record(session, kind="verify", action="processing_log.verified",
           outcome="ok" if result.ok else "error", actor_type=actor_type, actor_id=actor_id,
           details={"entries": result.entries, "last_seq": result.last_seq,
                    "head_hash": result.head_hash, "problem": result.problem})
