"""Check the whole log against its signed checkpoints and name the first thing that is wrong.

What is checked, in order:

1. every checkpoint row carries a signed note that verifies with the log's key (or a previous
   key) and states the row's size and root: an unsigned or forged checkpoint fails;
2. every entry has a leaf and matches it (its line, hashed, is the leaf): an edit fails;
3. the leaves are numbered 1..n without a gap, and an entry is missing only where a purge
   recorded in the signed part of the log removed it;
4. the tree over the leaves has, at every checkpoint's size, the root that checkpoint signed:
   an edit with the hashes recomputed, or entries deleted and the rest renumbered, fail here;
5. the tree is at least as large as its newest checkpoint (truncation), and a checkpoint
   exists at every ``checkpoint_every`` boundary it has passed (removed checkpoints).

Entries after the newest checkpoint are checked against their leaves only: the next
checkpoint, and the copy a witness keeps of it, protect them (docs/threat-model.md).

The database builds each entry's line (the hashed columns, joined) in SQL, so the check reads
one short value per entry and spends its time hashing, as a check must. The tree is cut at
checkpoints whose stored frontier has the signed root, so segments run side by side.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any

import orjson
from sqlalchemy import (
    CompoundSelect,
    Connection,
    Label,
    String,
    func,
    literal,
    literal_column,
    null,
    select,
    text,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from gateway.audit.chain import HASHED_COLUMNS, SEPARATOR
from gateway.audit.keys import LogIdentity
from gateway.audit.leaves import PURGED_BEFORE_MERKLE, tree_size
from gateway.audit.log import AuditContext, record
from gateway.audit.merkle import Frontier, leaf_hash
from gateway.audit.note import NoteError, open_checkpoint
from gateway.platform.db.engine import make_engine
from gateway.platform.db.models import (
    ProcessingLogCheckpoint,
    ProcessingLogEntry,
    ProcessingLogLeaf,
)

_LOG, _CHECKPOINTS = ProcessingLogEntry.__table__, ProcessingLogCheckpoint.__table__
_LEAVES = ProcessingLogLeaf.__table__
PURGED = "processing_log.purged"  # the action of a purge's own entry
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


def line_sql() -> Label[str]:
    """Each entry's line, built by the database."""
    template = literal(SEPARATOR.join(["%s"] * len(HASHED_COLUMNS)), String)
    return _Joined(template, *(_LOG.c[name] for name in HASHED_COLUMNS)).label("line")


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int  # entries checked against their leaves
    first_seq: int | None  # the oldest entry present (older ones were purged)
    last_seq: int | None
    head_hash: str  # the newest entry's leaf hash
    checkpoints: int  # signed checkpoints whose root the tree matched
    problem: str | None = None
    bad_seq: int | None = None
    bad_id: str | None = None
    tree_size: int = 0  # leaves, purged entries included
    root_hash: str = ""  # the root over all of them
    signed_size: int = 0  # the newest signed checkpoint's size


@dataclass(frozen=True)
class Segment:
    """Leaves after ``after_seq`` (where the tree's frontier is ``frontier``) through
    ``through_seq``, with the signed roots inside it to match; entries at or below
    ``purged_through`` may be gone."""

    after_seq: int
    frontier: str
    through_seq: int
    marks: dict[int, str]
    purged_through: int


@dataclass(frozen=True)
class Plan:
    segments: list[Segment]
    tree_size: int
    signed_size: int
    failure: Verification | None = None


def plan(connection: Connection, identity: LogIdentity, parts: int = 1) -> Plan:
    """Check every checkpoint's signature, then cut the tree at verified checkpoints into at
    most ``parts`` segments (a cut's frontier must have the signed root, so each segment starts
    from the signed tree and must reach the next signed root: together they check the whole
    tree as one pass would)."""
    size = tree_size(connection)
    if (foreign := _foreign_value(connection)) is not None:
        return _refused(size, f"entry {foreign} holds a value the gateway never writes (binary "
                              "data or a NUL byte, which the database's line hides): it was "
                              "changed", foreign)
    rows = connection.execute(select(_CHECKPOINTS).order_by(_CHECKPOINTS.c.seq)).all()
    marks: dict[int, str] = {}
    for row in rows:
        try:
            signed = open_checkpoint(row.note or "", identity.verifiers)
        except NoteError as error:
            return _refused(size, f"checkpoint at size {row.seq} is not signed by the log's key "
                                  f"({error}): it was forged or inserted", row.seq)
        if signed.origin != identity.origin:  # the key's, so a setting changed, not the log
            return _refused(size, f"checkpoint at size {row.seq} was signed for the log "
                                  f"{signed.origin}, but this gateway's log is "
                                  f"{identity.origin}: set WIJKGATEWAY_PUBLIC_BASE_URL (or "
                                  "WIJKGATEWAY_AUDIT_ORIGIN) as it was when it was signed",
                            row.seq)
        if (signed.origin, signed.size, signed.root.hex()) != (identity.origin, row.seq,
                                                                row.hash):
            return _refused(size, f"checkpoint at size {row.seq} does not match its signed "
                                  f"note (size {signed.size}, origin {signed.origin})", row.seq)
        marks[row.seq] = row.hash
    signed_size = max(marks, default=0)
    revived = connection.scalar(select(func.min(_LOG.c.seq)).select_from(
        _LOG.join(_LEAVES, _LEAVES.c.seq == _LOG.c.seq)))
    if revived is not None:
        return _refused(size, f"entry {revived} is there although it was purged: it was "
                              "inserted after its purge", revived)
    purged = 0
    for details in connection.scalars(select(_LOG.c.details).where(
            _LOG.c.action == PURGED, _LOG.c.seq <= signed_size)):
        purged = max(purged, _through(details))
    cuts = [(0, "")]
    frontiers = {r.seq: r.frontier for r in rows}
    ordered = sorted(marks)
    for k in range(1, parts):
        at = ordered[len(ordered) * k // parts] if ordered else 0
        if at > cuts[-1][0] and _frontier_root(at, frontiers[at]) == marks[at]:
            cuts.append((at, frontiers[at]))
    bounds = [*cuts[1:], (size, "")]
    return Plan([Segment(after, frontier, max(through, after),
                         {s: h for s, h in marks.items() if s > after and (
                             s <= through or through == size)}, purged)
                 for (after, frontier), (through, _) in zip(cuts, bounds, strict=True)],
                size, signed_size)


def _foreign_value(connection: Connection) -> int | None:
    """SQLite only (PostgreSQL's text holds neither): the first entry with a BLOB or a NUL in
    a hashed column. ``printf`` stops at a NUL and prints a BLOB like text, so such a value
    would pass the line check while the application reads something else."""
    if connection.dialect.name != "sqlite":
        return None
    odd = [f"typeof({name}) = 'blob' OR instr(CAST({name} AS BLOB), x'00') > 0"
           for name in HASHED_COLUMNS]
    return connection.scalar(text(
        f"SELECT min(seq) FROM processing_log WHERE {' OR '.join(odd)}"))  # noqa: S608


def _refused(size: int, problem: str, seq: int) -> Plan:
    return Plan([], size, 0, Verification(False, 0, None, None, "", 0, problem, seq,
                                          tree_size=size))


def _frontier_root(size: int, text: str) -> str | None:
    try:
        return Frontier.from_text(size, text).root().hex()
    except ValueError:
        return None


def _through(details: str | None) -> int:
    try:
        value = orjson.loads(details or "{}").get("through_seq")
    except (orjson.JSONDecodeError, AttributeError):
        return 0
    return value if isinstance(value, int) else 0


def verify_log(connection: Connection, identity: LogIdentity,
               checkpoint_every: int | None = None) -> Verification:
    """The whole log in one pass."""
    planned = plan(connection, identity)
    if planned.failure:
        return planned.failure
    return _finish(planned, [verify_segment(connection, planned.segments[0])],
                   checkpoint_every)


def segment_query(after: int, through: int) -> CompoundSelect:
    """The segment's leaves in tree order: each entry's (seq, leaf, id, line), and each purged
    leaf's (seq, leaf) with no entry."""
    present = select(_LOG.c.seq, _LOG.c.hash, _LOG.c.id, line_sql()).where(
        _LOG.c.seq > after, _LOG.c.seq <= through)
    purged = select(_LEAVES.c.seq, _LEAVES.c.hash, null().label("id"),
                    null().label("line")).where(_LEAVES.c.seq > after, _LEAVES.c.seq <= through)
    return union_all(present, purged).order_by(literal_column("seq"))


def verify_segment(connection: Connection, segment: Segment) -> Verification:
    compiled = segment_query(segment.after_seq, segment.through_seq).compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    driver = connection.connection.driver_connection  # rows as plain tuples: fast
    # PostgreSQL streams through a server-side cursor; SQLite's cursor is lazy already.
    cursor = driver.cursor("verify") if connection.dialect.name == "postgresql" \
        else driver.cursor()
    cursor.execute(str(compiled), _positional(compiled, connection))
    frontier = Frontier.from_text(segment.after_seq, segment.frontier)
    marks = dict(segment.marks)
    expected, count, matched = segment.after_seq + 1, 0, 0
    first: int | None = None
    head = ""

    def failed(problem: str, seq: int, entry_id: str | None = None) -> Verification:
        return Verification(False, count, first, expected - 1 if count else None, head,
                            matched, problem, seq, entry_id, frontier.size)

    while rows := cursor.fetchmany(BATCH):
        for seq, leaf, entry_id, entry_line in rows:
            if seq != expected:
                return failed(f"entry {expected} was removed: the log jumps from entry "
                              f"{expected - 1} to entry {seq}", expected)
            if entry_id is None:
                if seq > segment.purged_through and leaf != PURGED_BEFORE_MERKLE:
                    return failed(f"entry {seq} was removed: no purge in the signed log "
                                  "covers it", seq)
            else:
                if leaf_hash(entry_line.encode()).hex() != leaf:
                    return failed(f"entry {seq} ({entry_id}) was changed: its content does "
                                  "not match its leaf hash", seq, entry_id)
                first = seq if first is None else first
                count, head = count + 1, leaf
            frontier.append(bytes.fromhex(leaf))
            if seq in marks:
                if marks.pop(seq) != frontier.root().hex():
                    return failed(f"the tree at size {seq} does not match its signed "
                                  f"checkpoint: entries up to {seq} were changed, removed, "
                                  "inserted or renumbered", seq)
                matched += 1
            expected += 1
    if marks:
        missing = min(marks)
        return failed(f"the log was truncated: a signed checkpoint covers {missing} entries, "
                      f"the tree ends at {expected - 1}", missing)
    return Verification(True, count, first, expected - 1 if count else None, head, matched,
                        tree_size=frontier.size, root_hash=frontier.root().hex())


def _finish(planned: Plan, results: list[Verification],
            checkpoint_every: int | None) -> Verification:
    """One result from the segments' (in tree order): the first problem, else the sums."""
    for result in results:
        if not result.ok:
            return dataclasses.replace(result, signed_size=planned.signed_size)
    counted = [r for r in results if r.entries]
    last = results[-1]
    combined = Verification(
        True, sum(r.entries for r in results), counted[0].first_seq if counted else None,
        counted[-1].last_seq if counted else None, counted[-1].head_hash if counted else "",
        sum(r.checkpoints for r in results), tree_size=last.tree_size,
        root_hash=last.root_hash, signed_size=planned.signed_size)
    if checkpoint_every:
        boundary = planned.tree_size // checkpoint_every * checkpoint_every
        if planned.signed_size < boundary:
            return dataclasses.replace(
                combined, ok=False, bad_seq=boundary,
                problem=f"no signed checkpoint covers entry {boundary} (one is made every "
                        f"{checkpoint_every}): checkpoints were removed, or none was made "
                        "since the upgrade (run `wijkgateway audit checkpoint`)")
    return combined


def _positional(compiled: Any, connection: Connection) -> Any:
    """The compiled statement's parameters in the driver's own style."""
    params = compiled.construct_params()
    if connection.dialect.paramstyle in ("qmark", "numeric", "format"):
        return tuple(params[name] for name in compiled.positiontup)
    return params


def verify_database(database_url: str, context: AuditContext,
                    workers: int = 1) -> Verification:
    """The whole log, in ``workers`` processes side by side (segments between checkpoints);
    the first problem in tree order is the one reported."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            planned = plan(connection, context.identity, max(1, workers))
    finally:
        engine.dispose()
    if planned.failure:
        return planned.failure
    if len(planned.segments) == 1:
        results = [_verify_in_process(database_url, planned.segments[0])]
    else:
        with ProcessPoolExecutor(len(planned.segments), mp_context=get_context("fork")) as pool:
            results = list(pool.map(_verify_in_process, [database_url] * len(planned.segments),
                                    planned.segments))
    return _finish(planned, results, context.checkpoint_every)


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
