"""Processing-log appends per second with the Merkle tree (leaf hashes, a signed checkpoint every
1,000 entries) next to a plain insert of the same rows, and ``audit verify`` over 1,000,000
entries next to hashing the same bytes into the same tree with hashlib alone.

Data: GP referrals as the gateway logs them (activity ``gp-referral-to-wijkteam``): half
``referral.received`` writes by the GP's client, half ``delivery.permitted`` disclosures to a
neighbourhood team, each about one of 2,000 residents named by a valid BSN (``subject=bsn:...``,
stored as its HMAC pseudonym), with the activity's categories, a details object, and the request
and trace ids a served request carries. Every database is a fresh SQLite file made by the
gateway's migrations, with the gateway's engine tuning (WAL, synchronous=NORMAL, BEGIN IMMEDIATE).

Appends, four contenders, each on a database of its own:

merkle  the real path: a session from ``audit_sessions``, ``record(...)`` per entry, commit
        (the ``before_commit`` hook reads the tree's size, hashes each leaf, inserts the entries
        and their leaves, and signs a checkpoint every 1,000 entries, the default cadence,
        starting from the previous checkpoint's frontier); 1 entry per transaction, and 10.
plain   the same rows (built beforehand by the same ``record`` and numbered, so every column
        value is alike but ``id`` and ``recorded_at``) inserted with SQLAlchemy Core
        ``connection.execute(insert, rows)`` in the same transactions: 1 and 10 entries each.

They alternate in rounds, their order rotating, so drift in the machine's speed hits all alike.
Afterwards each merkle database must verify with every entry it was given.

Verify: ``--verify-entries`` rows (``seq``, leaf ``hash`` by ``gateway.audit.chain``, leaves, and
a signed checkpoint every 1,000) generated in Python from the same entries and bulk inserted
with Core executemany in large transactions (generation and insert timed apart). Then,
alternating in rounds:

verify    ``gateway.audit.verify.verify_database``, as ``wijkgateway audit verify`` runs it: the
          tree cut at checkpoints into ``--verify-workers`` segments checked side by side
          (default: the machine's cores, at most 4); in each, the database builds each line,
          Python hashes it, compares it with its leaf and folds it into the tree, matching the
          signed roots.
hashlib   the same bytes (every line fetched once beforehand with verify's own SQL line
          expression) hashed into leaves and the tree's frontier in a tight loop, no database:
          the limit for verify.
sql-only  for diagnosis: verify's query run on the bare sqlite3 cursor, rows fetched and
          dropped; and the same without the line (seq, id, hashes only), so the report can
          split verify's wall time into reading rows, building lines in SQL, hashing, and the
          rest (SQLAlchemy rows and the Python loop).

Targets from the issue, printed next to the figures: merkle/plain appends per second >= 0.5,
verify/hashlib entries per second >= 0.3. Below the verify target (or with ``--profile
always``) one verify pass runs under cProfile and the report says where its time goes. This is
a measurement, not a test: it exits 0 whatever the numbers, 1 when a log does not verify,
2 when it cannot run.

    python bench/audit.py [--appends 20000] [--warmup 200] [--rounds 10]
                          [--verify-entries 1000000] [--verify-rounds 3]
                          [--profile auto|always|never] [--seed 1] [--smoke]
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import itertools
import json
import os
import pstats
import random
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import orjson
import structlog
from common import parse_with_smoke, run_in_workdir, verdict
from sqlalchemy import Engine, Select, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from consent import RegisterError
from gateway.api.processing_activities import load_register
from gateway.audit.chain import entry_leaf
from gateway.audit.keys import LogIdentity
from gateway.audit.log import (
    CONTEXT,
    PENDING,
    AuditContext,
    audit_sessions,
    record,
    subject_identifier,
    timestamp,
)
from gateway.audit.merkle import Frontier
from gateway.audit.note import Checkpoint, Signer
from gateway.audit.pseudonyms import Pseudonymiser
from gateway.audit.verify import (
    BATCH as VERIFY_FETCH_BATCH,
)
from gateway.audit.verify import (
    Verification,
    line_sql,  # verify's own line expression: the hashlib contender hashes what it hashes
    segment_query,
    verify_database,
    verify_log,
)
from gateway.platform.db.engine import make_engine
from gateway.platform.db.migrate import upgrade
from gateway.platform.db.models import ProcessingLogCheckpoint, ProcessingLogEntry
from schemas import is_valid_bsn

TARGET_APPEND_RATIO = 0.5  # merkle appends/s over plain inserts/s
TARGET_VERIFY_RATIO = 0.3  # verify entries/s over hashlib entries/s
ROUNDS = 10
VERIFY_ROUNDS = 3
BATCH_ENTRIES = 10  # entries per transaction of the batch variant
CHECKPOINT_EVERY = 1000  # the settings' default (WIJKGATEWAY_AUDIT_CHECKPOINT_EVERY)
LOAD_BATCH = 50_000  # generated entries per insert transaction
RESIDENTS = 2000
ACTIVITY = "gp-referral-to-wijkteam"
GP_CLIENT = "demo-huisarts"
TEAM, TEAM_ROLE = "wijkteam-noord", "wijkteam"
PSEUDONYM_KEY = "bench-audit-pseudonym-key-not-for-production-use"
ORIGIN = "bench.invalid/processing-log"
SMOKE = {"appends": 300, "warmup": 20, "rounds": 4, "verify_entries": 5_000, "verify_rounds": 2}

LOG, CHECKPOINTS = ProcessingLogEntry.__table__, ProcessingLogCheckpoint.__table__
VERIFY_QUERY = segment_query(0, 2**62)  # verify_segment's, over the whole tree
BARE_QUERY = (select(LOG.c.seq, LOG.c.hash, LOG.c.id)
              .where(LOG.c.seq > 0).order_by(LOG.c.seq))  # the same rows, no line built
LINES_QUERY = select(line_sql()).order_by(LOG.c.seq)


class BenchError(RuntimeError):
    """The benchmark could not run (register, database)."""


@dataclass(frozen=True, slots=True)
class Transaction:
    """What one request logs: its ids and the ``record`` arguments of its entries."""

    request_id: str
    trace_id: str
    entries: tuple[dict[str, Any], ...]


@dataclass
class Timing:
    """Entries handled and seconds spent by one contender, summed over the rounds."""

    entries: int = 0
    seconds: float = 0.0
    passes: int = 0

    def add(self, entries: int, seconds: float) -> None:
        self.entries += entries
        self.seconds += seconds
        self.passes += 1

    @property
    def eps(self) -> float:
        return self.entries / self.seconds if self.seconds else 0.0

    def json(self) -> dict[str, float]:
        return {"entries": self.entries, "seconds": round(self.seconds, 3),
                "eps": round(self.eps, 1)}


@dataclass
class AppendVariant:
    per_tx: int
    merkle: Timing = field(default_factory=Timing)
    plain: Timing = field(default_factory=Timing)
    expected: int = 0  # entries each database should hold
    verification: Verification | None = None
    plain_rows: int = 0

    @property
    def ratio(self) -> float:
        return self.merkle.eps / self.plain.eps if self.plain.eps else 0.0


@dataclass
class VerifyResult:
    entries: int
    checkpoints: int
    generate_s: float
    insert_s: float
    lines_fetch_s: float
    generated_head: str
    hashlib_head: str = ""
    verify: Timing = field(default_factory=Timing)
    hashlib: Timing = field(default_factory=Timing)
    sql_only: Timing = field(default_factory=Timing)
    sql_bare: Timing = field(default_factory=Timing)
    verifications: list[Verification] = field(default_factory=list)
    profile: dict[str, Any] | None = None

    @property
    def ratio(self) -> float:
        return self.verify.eps / self.hashlib.eps if self.hashlib.eps else 0.0

    @property
    def ok(self) -> bool:
        return bool(self.verifications) and all(
            v.ok and v.entries == self.entries and v.root_hash == self.generated_head
            for v in self.verifications)


# --- workload ---------------------------------------------------------------------------------

def valid_bsns(count: int) -> list[str]:
    """Distinct BSNs that pass the elfproef."""
    candidates = (f"{prefix:08d}{check}" for prefix in itertools.count(10_000_000)
                  for check in range(10))
    return list(itertools.islice(filter(is_valid_bsn, candidates), count))


def random_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def entry_arguments(rng: random.Random, bsn: str, categories: frozenset[str],
                    disclosure: bool) -> dict[str, Any]:
    """``record`` arguments of one entry: a referral received, or its disclosure to a team."""
    resource = f"ServiceRequest/{random_id(rng)}"
    common = {"activity_id": ACTIVITY, "recipient": TEAM, "subject": subject_identifier(bsn),
              "categories": categories}
    if not disclosure:
        return {**common, "kind": "write", "action": "referral.received", "actor_id": GP_CLIENT,
                "sender": GP_CLIENT, "details": {"resource": resource}}
    return {**common, "kind": "disclosure", "action": "delivery.permitted", "actor_type": "system",
            "recipient_role": TEAM_ROLE,
            "details": {"resource": resource, "event": "referral.received",
                        "rules": [f"consent:{random_id(rng)}"], "records": [random_id(rng)]}}


def transactions(rng: random.Random, bsns: Sequence[str], categories: frozenset[str],
                 count: int, per_tx: int) -> list[Transaction]:
    entries = [entry_arguments(rng, rng.choice(bsns), categories, rng.random() < 0.5)
               for _ in range(count)]
    return [Transaction(rng.getrandbits(128).to_bytes(16).hex(),
                        rng.getrandbits(128).to_bytes(16).hex(), tuple(entries[i:i + per_tx]))
            for i in range(0, count, per_tx)]


class Notes:
    """Stands in for a session so ``record`` notes entries without a database."""

    def __init__(self, context: AuditContext) -> None:
        self.info: dict[str, Any] = {CONTEXT: context}

    def record(self, transaction: Transaction) -> list[dict[str, Any]]:
        structlog.contextvars.bind_contextvars(request_id=transaction.request_id,
                                               trace_id=transaction.trace_id)
        for entry in transaction.entries:
            record(cast(Session, self), **entry)
        return self.info.pop(PENDING)


def plain_rows(context: AuditContext, txs: Sequence[Transaction]) -> list[list[dict[str, Any]]]:
    """The rows the log writes for these transactions, numbered and hashed in order: the plain
    contender's rows, one list per transaction."""
    notes, seq = Notes(context), 0
    groups = []
    for transaction in txs:
        rows = notes.record(transaction)
        for values in rows:
            seq += 1
            values["seq"] = seq
            values["hash"] = entry_leaf(values).hex()
        groups.append(rows)
    structlog.contextvars.clear_contextvars()
    return groups


def split(items: Sequence[Any], parts: int) -> list[Sequence[Any]]:
    return [items[i * len(items) // parts:(i + 1) * len(items) // parts] for i in range(parts)]


def fresh_database(workdir: Path, name: str) -> Engine:
    url = f"sqlite:///{workdir / name}.db"
    try:
        upgrade(url)
    except (SQLAlchemyError, OSError) as error:
        raise BenchError(f"cannot create the database {name}: {error}") from error
    return make_engine(url)


# --- appends ----------------------------------------------------------------------------------

def append_merkle(sessions: sessionmaker[Session], txs: Sequence[Transaction]) -> float:
    """The real path, one transaction per request. Returns the wall time."""
    started = time.perf_counter()
    for transaction in txs:
        structlog.contextvars.bind_contextvars(request_id=transaction.request_id,
                                               trace_id=transaction.trace_id)
        with sessions.begin() as session:
            for entry in transaction.entries:
                record(session, **entry)
    elapsed = time.perf_counter() - started
    structlog.contextvars.clear_contextvars()
    return elapsed


def append_plain(engine: Engine, groups: Sequence[list[dict[str, Any]]]) -> float:
    """The same rows with Core, the same transactions (and the same insert call as the log's
    hook, without the leaves and checkpoints). Returns the wall time."""
    started = time.perf_counter()
    for rows in groups:
        with engine.begin() as connection:
            connection.execute(LOG.insert(), rows)
    return time.perf_counter() - started


def run_appends(args: argparse.Namespace, workdir: Path, context: AuditContext,
                bsns: Sequence[str]) -> list[AppendVariant]:
    categories = context.register.activity(ACTIVITY).data_categories
    variants: list[AppendVariant] = []
    contenders: list[Callable[[int], None]] = []
    engines: list[Engine] = []
    try:
        for per_tx in (1, BATCH_ENTRIES):
            variant = AppendVariant(per_tx, expected=args.warmup + args.appends)
            variants.append(variant)
            rng = random.Random(f"{args.seed}-appends-{per_tx}")
            warmup = transactions(rng, bsns, categories, args.warmup, per_tx)
            measured = transactions(rng, bsns, categories, args.appends, per_tx)
            groups = plain_rows(context, [*warmup, *measured])
            warmup_groups, measured_groups = groups[:len(warmup)], groups[len(warmup):]
            merkle_engine = fresh_database(workdir, f"merkle-{per_tx}")
            plain_engine = fresh_database(workdir, f"plain-{per_tx}")
            engines += [merkle_engine, plain_engine]
            sessions = audit_sessions(merkle_engine, context)
            append_merkle(sessions, warmup)
            append_plain(plain_engine, warmup_groups)
            rounds = min(args.rounds, len(measured))
            merkle_chunks, plain_chunks = split(measured, rounds), split(measured_groups, rounds)
            contenders += [
                _timed(variant.merkle, merkle_chunks,
                       lambda c, s=sessions: append_merkle(s, c)),
                _timed(variant.plain, plain_chunks, lambda c, e=plain_engine: append_plain(e, c)),
            ]
        rounds = min(args.rounds, args.appends)
        for i in range(rounds):
            shift = i % len(contenders)
            for contender in contenders[shift:] + contenders[:shift]:
                contender(i)
        for variant, merkle_engine, plain_engine in zip(variants, engines[::2], engines[1::2],
                                                        strict=True):
            with merkle_engine.connect() as connection:
                variant.verification = verify_log(connection, context.identity,
                                                  context.checkpoint_every)
            with plain_engine.connect() as connection:
                variant.plain_rows = connection.scalar(select(func.count()).select_from(LOG))
    finally:
        for engine in engines:
            engine.dispose()
    return variants


def _timed(timing: Timing, chunks: Sequence[Sequence[Any]],
           run: Callable[[Sequence[Any]], float]) -> Callable[[int], None]:
    """One contender's round ``i``: its chunk ``i``, timed (no chunk when it has fewer)."""

    def go(i: int) -> None:
        if i < len(chunks):
            chunk = chunks[i]
            entries = sum(len(t.entries) if isinstance(t, Transaction) else len(t)
                          for t in chunk)
            timing.add(entries, run(chunk))

    return go


# --- verify -----------------------------------------------------------------------------------

def generated_entries(context: AuditContext, rng: random.Random, bsns: Sequence[str],
                      count: int) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]],
                                                    str]]:
    """Batches of (log rows, checkpoints, the tree's root after them). Fast: two templates
    made by ``record`` (one per kind of entry) get each row's own id, time, subject, request,
    trace and details; each is hashed into its leaf and the tree's frontier as the hook does,
    and every CHECKPOINT_EVERY the root is signed as the hook signs it."""
    categories = context.register.activity(ACTIVITY).data_categories
    notes = Notes(context)
    templates = []
    for disclosure in (False, True):
        arguments = entry_arguments(rng, bsns[0], categories, disclosure)
        templates.append(notes.record(Transaction("-", "-", (arguments,)))[0])
    structlog.contextvars.clear_contextvars()
    pseudonyms = [context.pseudonymiser.pseudonym(subject_identifier(b))[0] for b in bsns]
    start = datetime.now(UTC) - timedelta(seconds=2 * count)
    seq, frontier = 0, Frontier()
    rows: list[dict[str, Any]] = []
    checkpoints: list[dict[str, Any]] = []
    dumps, sort_keys = orjson.dumps, orjson.OPT_SORT_KEYS
    while seq < count:
        seq += 1
        disclosure = rng.random() < 0.5
        values = dict(templates[disclosure])
        resource = f"ServiceRequest/{random_id(rng)}"
        details: dict[str, Any] = {"resource": resource}
        if disclosure:
            details |= {"event": "referral.received", "rules": [f"consent:{random_id(rng)}"],
                        "records": [random_id(rng)]}
        values.update(
            id=random_id(rng), recorded_at=timestamp(start + timedelta(seconds=2 * seq)),
            subject=pseudonyms[rng.randrange(len(pseudonyms))],
            request_id=rng.getrandbits(128).to_bytes(16).hex(),
            trace_id=rng.getrandbits(128).to_bytes(16).hex(),
            details=dumps(details, option=sort_keys).decode(), seq=seq)
        leaf = entry_leaf(values)
        values["hash"] = leaf.hex()
        frontier.append(leaf)
        rows.append(values)
        if seq % CHECKPOINT_EVERY == 0:
            root = frontier.root()
            note = context.identity.signer.sign(Checkpoint(ORIGIN, seq, root).text())
            checkpoints.append({"seq": seq, "hash": root.hex(), "kind": "periodic",
                                "created_at": datetime.now(UTC), "note": note,
                                "frontier": frontier.to_text()})
        if len(rows) == LOAD_BATCH or seq == count:
            yield rows, checkpoints, frontier.root().hex()
            rows, checkpoints = [], []


def load_entries(engine: Engine, context: AuditContext, rng: random.Random,
                 bsns: Sequence[str], count: int) -> VerifyResult:
    generate_s = insert_s = 0.0
    checkpoints, head = 0, ""
    batches = generated_entries(context, rng, bsns, count)
    while True:
        started = time.perf_counter()
        batch = next(batches, None)
        generate_s += time.perf_counter() - started
        if batch is None:
            break
        rows, marks, head = batch
        started = time.perf_counter()
        with engine.begin() as connection:
            connection.execute(LOG.insert(), rows)
            if marks:
                connection.execute(CHECKPOINTS.insert(), marks)
        insert_s += time.perf_counter() - started
        checkpoints += len(marks)
    return VerifyResult(count, checkpoints, generate_s, insert_s, 0.0, head)


def fetch_lines(engine: Engine) -> list[bytes]:
    with engine.connect() as connection:
        return [text.encode() for text in connection.execute(LINES_QUERY).scalars()]


def hash_lines(lines: Sequence[bytes]) -> tuple[float, str]:
    """The tree over these lines with hashlib alone: each leaf SHA-256(0x00 || line), folded
    into the frontier as RFC 9162 nodes SHA-256(0x01 || left || right). Returns the wall time
    and the root hash."""
    sha256 = hashlib.sha256
    hashes: list[bytes] = []
    size = 0
    started = time.perf_counter()
    for entry_line in lines:
        node, n = sha256(b"\x00" + entry_line).digest(), size
        while n & 1:
            node = sha256(b"\x01" + hashes.pop() + node).digest()
            n >>= 1
        hashes.append(node)
        size += 1
    root = hashes[-1] if hashes else sha256(b"").digest()
    for left in reversed(hashes[:-1]):
        root = sha256(b"\x01" + left + root).digest()
    return time.perf_counter() - started, root.hex()


def verify(engine: Engine, context: AuditContext, workers: int) -> tuple[float, Verification]:
    """What ``wijkgateway audit verify`` runs: segments between checkpoints, side by side."""
    started = time.perf_counter()
    result = verify_database(engine.url.render_as_string(hide_password=False), context, workers)
    return time.perf_counter() - started, result


def sql_only(engine: Engine, query: Select[Any]) -> tuple[float, int]:
    """A query on the bare sqlite3 cursor, fetched as verify fetches, rows dropped."""
    compiled = query.compile(dialect=engine.dialect)
    params = [compiled.params[name] for name in compiled.positiontup or ()]
    raw = engine.raw_connection()
    try:
        started = time.perf_counter()
        cursor = raw.cursor()
        cursor.execute(compiled.string, params)
        count = 0
        while rows := cursor.fetchmany(VERIFY_FETCH_BATCH):
            count += len(rows)
        cursor.close()
        return time.perf_counter() - started, count
    finally:
        raw.close()


def run_verify(args: argparse.Namespace, workdir: Path, context: AuditContext,
               bsns: Sequence[str]) -> VerifyResult:
    engine = fresh_database(workdir, "verify")
    try:
        result = load_entries(engine, context, random.Random(f"{args.seed}-verify"), bsns,
                              args.verify_entries)
        started = time.perf_counter()
        lines = fetch_lines(engine)
        result.lines_fetch_s = time.perf_counter() - started

        def run_verify_round() -> None:
            seconds, verification = verify(engine, context, args.verify_workers)
            result.verify.add(verification.entries, seconds)
            result.verifications.append(verification)

        def run_hashlib_round() -> None:
            seconds, result.hashlib_head = hash_lines(lines)
            result.hashlib.add(len(lines), seconds)

        def run_sql_round() -> None:
            seconds, rows = sql_only(engine, VERIFY_QUERY)
            result.sql_only.add(rows, seconds)

        def run_bare_sql_round() -> None:
            seconds, rows = sql_only(engine, BARE_QUERY)
            result.sql_bare.add(rows, seconds)

        contenders = [run_verify_round, run_hashlib_round, run_sql_round, run_bare_sql_round]
        verify(engine, context, args.verify_workers)  # warm the caches, unmeasured
        for i in range(args.verify_rounds):
            shift = i % len(contenders)
            for contender in contenders[shift:] + contenders[:shift]:
                contender()
        if args.profile == "always" or (args.profile == "auto"
                                        and result.ratio < TARGET_VERIFY_RATIO):
            result.profile = profile_verify(engine, context)
    finally:
        engine.dispose()
    return result


# --- profile ----------------------------------------------------------------------------------

PROFILE_GROUPS = (
    ("sqlite", "SQLite: run the query, build each line in SQL, fetch rows (sqlite3, C)"),
    ("hashlib", "hashlib: sha256 and hexdigest (C)"),
    ("encode", "str.encode of the line and the previous hash (C)"),
    ("merkle", "merkle.py frames: leaf hash and frontier appends"),
    ("verify_loop", "verify.py loop: unpack, compare, checkpoint lookup"),
    ("sqlalchemy", "SQLAlchemy: result buffering and Row objects"),
    ("other", "other"),
)


def profile_group(key: tuple[str, int, str]) -> str:
    filename, _, name = key
    where = filename.replace(os.sep, "/")
    if "sqlite3" in name or "sqlite3" in where:
        return "sqlite"
    if "_hashlib" in name or where.endswith("/hashlib.py"):
        return "hashlib"
    if name == "<method 'encode' of 'str' objects>":
        return "encode"
    if where.endswith("gateway/audit/merkle.py"):
        return "merkle"
    if where.endswith("gateway/audit/verify.py"):
        return "verify_loop"
    if "sqlalchemy" in where or "sqlalchemy" in name:
        return "sqlalchemy"
    return "other"


def profile_verify(engine: Engine, context: AuditContext) -> dict[str, Any]:
    """One verify pass under cProfile: own time per group of functions, and the top ones."""
    profiler = cProfile.Profile()
    with engine.connect() as connection:
        started = time.perf_counter()
        profiler.enable()
        verify_log(connection, context.identity)
        profiler.disable()
        wall_s = time.perf_counter() - started
    stats: dict[tuple[str, int, str], tuple[Any, ...]] = pstats.Stats(profiler).stats
    groups = dict.fromkeys((name for name, _ in PROFILE_GROUPS), 0.0)
    functions = []
    for key, (_, calls, own_s, *_rest) in stats.items():
        groups[profile_group(key)] += own_s
        functions.append((own_s, calls, key))
    total = sum(groups.values()) or 1.0
    top = sorted(functions, reverse=True)[:8]
    return {
        "wall_s": round(wall_s, 3), "profiled_s": round(total, 3),
        "shares": {name: round(seconds / total, 3) for name, seconds in groups.items()},
        "top": [{"function": pstats.func_std_string(key), "calls": calls,
                 "own_s": round(own_s, 3), "share": round(own_s / total, 3)}
                for own_s, calls, key in top],
    }


# --- the report -------------------------------------------------------------------------------

def verification_json(v: Verification | None) -> dict[str, Any] | None:
    return None if v is None else {"ok": v.ok, "entries": v.entries,
                                   "checkpoints": v.checkpoints, "problem": v.problem}


def wall_clock_split(checked: VerifyResult) -> dict[str, float]:
    """Shares of one verify pass, from the diagnosis contenders' times per pass."""
    def per_pass(timing: Timing) -> float:
        return timing.seconds / timing.passes if timing.passes else 0.0

    total = per_pass(checked.verify)
    if not total:
        return dict.fromkeys(("read_rows", "build_lines", "hashing", "rest"), 0.0)
    read, sql, hashing = (per_pass(checked.sql_bare), per_pass(checked.sql_only),
                          per_pass(checked.hashlib))
    shares = {"read_rows": read / total, "build_lines": (sql - read) / total,
              "hashing": hashing / total}
    return {**shares, "rest": 1 - sum(shares.values())}


def report(args: argparse.Namespace, variants: list[AppendVariant], checked: VerifyResult,
           elapsed_s: float) -> bool:
    """Print the table and the JSON line. Returns whether every log verified."""
    print(f"wijkgateway processing log on SQLite (WAL, synchronous=NORMAL), 1 thread in-process, "
          f"seed {args.seed}: {args.appends:,} appends per contender after {args.warmup:,} "
          f"warm-up, {args.rounds} alternating rounds; verify over {checked.entries:,} entries, "
          f"{args.verify_rounds} alternating rounds")
    print(f"{'appends':44}{'entries/tx':>11}{'entries/s':>12}{'tx/s':>10}{'s':>8}")
    for v in variants:
        for name, timing in (("merkle (audit_sessions + record + commit)", v.merkle),
                             ("plain insert (Core, same rows)", v.plain)):
            print(f"{name:44}{v.per_tx:>11}{timing.eps:>12,.1f}{timing.eps / v.per_tx:>10,.1f}"
                  f"{timing.seconds:>8.2f}")
    append_ok = all(v.ratio >= TARGET_APPEND_RATIO for v in variants)
    ratios = ", ".join(f"{v.per_tx} per tx: {v.ratio:.3f}" for v in variants)
    print(f"ratio merkle/plain appends/s: {ratios} "
          f"(target >= {TARGET_APPEND_RATIO}: {verdict(append_ok)})")
    chains_ok = True
    for v in variants:
        result = v.verification
        intact = bool(result and result.ok and result.entries == v.expected
                      and v.plain_rows == v.expected)
        chains_ok &= intact
        print(f"log after the appends, {v.per_tx} per tx: "
              f"{'ok' if result and result.ok else 'NOT OK: ' + str(result and result.problem)}, "
              f"{result.entries if result else 0:,} entries of {v.expected:,} written "
              f"(plain: {v.plain_rows:,} rows)")
    print(f"load: {checked.entries:,} entries generated in {checked.generate_s:.1f} s, inserted "
          f"in {checked.insert_s:.1f} s ({checked.entries / checked.insert_s:,.0f} entries/s, "
          f"{LOAD_BATCH:,} per transaction, {checked.checkpoints:,} checkpoints); lines fetched "
          f"for hashlib in {checked.lines_fetch_s:.1f} s")
    print(f"{'verify':44}{'entries/s':>12}{'s/pass':>10}")
    for name, timing in ((f"audit verify ({args.verify_workers} process(es))", checked.verify),
                         ("hashlib sha256 tree alone (same bytes)", checked.hashlib),
                         ("(diagnosis) verify's SQL alone, sqlite3", checked.sql_only),
                         ("(diagnosis) same rows without the line", checked.sql_bare)):
        print(f"{name:44}{timing.eps:>12,.0f}{timing.seconds / max(timing.passes, 1):>10.3f}")
    verify_ok = checked.ratio >= TARGET_VERIFY_RATIO
    print(f"ratio verify/hashlib entries/s: {checked.ratio:.3f} "
          f"(target >= {TARGET_VERIFY_RATIO}: {verdict(verify_ok)})")
    last = checked.verifications[-1] if checked.verifications else None
    same_head = checked.hashlib_head == checked.generated_head
    print(f"verification: {'ok' if checked.ok else 'NOT OK'} in every round, "
          f"{last.entries if last else 0:,} entries of {checked.entries:,} loaded, "
          f"{last.checkpoints if last else 0:,} signed checkpoints matched; root hash equal to "
          f"the generator's and hashlib's: {'yes' if same_head and checked.ok else 'NO'}")
    split_up = wall_clock_split(checked)
    if args.verify_workers == 1:  # with several processes the shares do not add up
        print(f"verify's pass by wall clock: reading the rows "
              f"{100 * split_up['read_rows']:.0f}%, building the lines in SQL "
              f"{100 * split_up['build_lines']:.0f}%, hashing {100 * split_up['hashing']:.0f}%,"
              f" the rest (Python loop, encode) {100 * split_up['rest']:.0f}%")
    if checked.profile:
        profile = checked.profile
        print(f"profile of one verify pass (cProfile, {profile['wall_s']:.1f} s under the "
              f"profiler), own time by group:")
        for name, label in PROFILE_GROUPS:
            print(f"  {100 * profile['shares'][name]:5.1f}%  {label}")
        print("  top functions by own time:")
        for top in profile["top"]:
            print(f"  {100 * top['share']:5.1f}%  {top['calls']:>10,}  {top['function']}")
    print(f"run took {elapsed_s:.0f} s")
    print(json.dumps({
        "benchmark": "audit", "database": "sqlite", "mode": "1 thread, in-process",
        "seed": args.seed, "appends": args.appends, "warmup": args.warmup,
        "rounds": args.rounds, "cpu_count": os.cpu_count() or 1,
        "append_results": [{
            "entries_per_tx": v.per_tx, "merkle": v.merkle.json(), "plain": v.plain.json(),
            "ratio": round(v.ratio, 3), "expected_entries": v.expected,
            "log_verification": verification_json(v.verification),
            "plain_rows": v.plain_rows} for v in variants],
        "target_append_ratio": TARGET_APPEND_RATIO, "append_ratio_target_met": append_ok,
        "verify": {
            "entries": checked.entries, "checkpoints": checked.checkpoints,
            "generate_s": round(checked.generate_s, 2), "insert_s": round(checked.insert_s, 2),
            "lines_fetch_s": round(checked.lines_fetch_s, 2),
            "rounds": args.verify_rounds, "verify": checked.verify.json(),
            "hashlib": checked.hashlib.json(), "sql_only": checked.sql_only.json(),
            "sql_without_line": checked.sql_bare.json(),
            "ratio": round(checked.ratio, 3), "ok": checked.ok,
            "verified_entries": last.entries if last else 0,
            "checkpoints_matched": last.checkpoints if last else 0,
            "root_hash_matches": same_head,
            "wall_clock_split": {k: round(v, 3) for k, v in split_up.items()},
            "profile": checked.profile,
        },
        "target_verify_ratio": TARGET_VERIFY_RATIO, "verify_ratio_target_met": verify_ok,
        "elapsed_s": round(elapsed_s, 1),
    }))
    return chains_ok and checked.ok and same_head


# --- the run ----------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--appends", type=int, default=20_000,
                        help="measured entries per append contender")
    parser.add_argument("--warmup", type=int, default=200,
                        help="unmeasured entries per append contender first")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="alternating append rounds")
    parser.add_argument("--verify-entries", type=int, default=1_000_000,
                        help="entries loaded for verify")
    parser.add_argument("--verify-workers", type=int, default=min(4, os.cpu_count() or 1),
                        help="processes audit verify uses (as the CLI: cores, at most 4)")
    parser.add_argument("--verify-rounds", type=int, default=VERIFY_ROUNDS,
                        help="alternating verify/hashlib rounds")
    parser.add_argument("--profile", choices=("auto", "always", "never"), default="auto",
                        help="profile one verify pass: when below target (auto), always, never")
    parser.add_argument("--seed", type=int, default=1, help="seed of the synthetic data")
    args = parse_with_smoke(parser, argv, SMOKE)
    if min(args.appends, args.rounds, args.verify_entries, args.verify_rounds) < 1 \
            or args.warmup < 0:
        parser.error("--appends, --rounds, --verify-entries and --verify-rounds must be "
                     "positive, --warmup not negative")
    return args


def measure(args: argparse.Namespace, workdir: Path) -> tuple[list[AppendVariant], VerifyResult]:
    """The appends, then the verification, in ``workdir``."""
    register = load_register()
    if register.activity(ACTIVITY) is None:
        raise BenchError(f"the register has no activity {ACTIVITY}")
    identity = LogIdentity(ORIGIN, Signer.generate(ORIGIN))
    context = AuditContext(register, Pseudonymiser(PSEUDONYM_KEY), identity, CHECKPOINT_EVERY)
    bsns = valid_bsns(RESIDENTS)
    return (run_appends(args, workdir, context, bsns),
            run_verify(args, workdir, context, bsns))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    measured = run_in_workdir("wijkgateway-bench-audit-", lambda w: measure(args, w),
                              (BenchError, RegisterError))
    if measured is None:
        return 2
    variants, checked = measured
    intact = report(args, variants, checked, time.perf_counter() - started)
    return 0 if intact else 1


if __name__ == "__main__":
    sys.exit(main())
