"""A first load through ``wijkgateway import menscentraal``, next to the raw work it wraps, and
a load killed halfway then run again, measured in one run (issue 13).

The export: ``--persons`` clients in ``--households`` households, as the adult records'
Excel export has them (``;``, a BOM, Dutch dates, a postcode as typed), one client a row: most
with a BSN, each with a household and a role in it, some with a trajectory (open, or closed).

- *gateway*: the command as a user runs it, in a process of its own on a fresh SQLite
  database: every row checked against the published JSON Schema, identity matching, the
  same-household rule, households and their versions, involvements, the message ids with
  their answers, the processing log (pseudonymised, hashed into its Merkle tree, signed
  checkpoints); its peak RSS is that process's.
- *baseline*: the same file read with the csv module, and the same rows (persons and their
  local ids, households and their ids, memberships, involvements, message ids with a digest
  of each message's content, and the log entries with their seq, pseudonym and leaf hash)
  inserted with SQLAlchemy Core executemany, a transaction per batch of the same size, on a
  second fresh database. No schema check, no matching, no rules, no versions, no
  checkpoints.
- *kill*: the command on a third fresh database, killed (SIGKILL) once half the persons are
  in, then run again to the end: every count must equal the uninterrupted load's (no row
  lost, none twice) and the log must verify.

A measurement, not a test: it exits 0 whatever the numbers, 2 when it cannot run.

    python bench/bulk_import.py [--persons 1000000] [--households 300000] [--smoke]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import hmac
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from common import bsns, parse_with_smoke, run_in_workdir, verdict
from sqlalchemy import Engine, insert
from sqlalchemy.exc import SQLAlchemyError

from consent import RegisterError
from gateway.api.processing_activities import load_register
from gateway.audit.chain import entry_leaf
from gateway.audit.log import audit_context
from gateway.audit.verify import verify_database
from gateway.auth.actors import add_actor
from gateway.auth.clients import add_client
from gateway.auth.scopes import adapter_scope
from gateway.cli.imports import BATCH_ROWS
from gateway.platform.db.engine import make_engine, make_sessionmaker
from gateway.platform.db.migrate import upgrade
from gateway.platform.db.models import (
    HouseholdIdentifier,
    HouseholdMember,
    HouseholdRow,
    InboundMessage,
    Involvement,
    Person,
    PersonIdentifier,
    ProcessingLogEntry,
    new_id,
)
from gateway.referrals.teams import add_team
from schemas import local_system
from schemas.household import household_system

TARGET_RATIO, TARGET_RSS_MB = 0.3, 500
SYSTEM, CLIENT_ID, ACTOR, TEAM_ID = "menscentraal", "menscentraal-bench", "beheer-1", "wijkteam"
SMOKE = {"persons": 2000, "households": 600}
COLUMNS = ("clientnummer", "bsn", "achternaam", "voornamen", "geboortedatum", "postcode",
           "huishoudnummer", "rol", "trajectnummer", "domein", "trajectstart", "trajecteinde")
SYLLABLES = ("jan", "sen", "de", "vries", "bak", "ker", "mul", "der", "bos", "vis", "smit",
             "mee", "ha", "ver", "hoe", "kstra", "dijk", "berg", "man", "wa")
GIVEN = ("Anna", "Bram", "Daan", "Emma", "Fenna", "Gijs", "Iris", "Jesse", "Lotte", "Milan",
         "Noor", "Olaf", "Pien", "Ruben", "Sara", "Thijs", "Vera", "Wout", "Yara", "Zoë")
DOMAINS = ("financien", "werk-en-opleiding", "huisvesting", "huiselijke-relaties",
           "geestelijke-gezondheid", "verslaving", "sociaal-netwerk")
ROLES = ("ouder", "partner")  # then children
MEMBER_ROLES = {"ouder": "parent", "partner": "partner", "kind": "child"}
# the cells of a row each of its messages says: the client, then its trajectory
MESSAGE_CELLS = {"c": COLUMNS[:8], "t": ("clientnummer", "bsn", *COLUMNS[8:])}
TABLES = ("persons", "person_identifiers", "households", "household_identifiers",
          "household_members", "involvements", "inbound_messages", "processing_log")


class BenchError(RuntimeError):
    """The benchmark could not run (register, database, the command)."""


def write_export(path: Path, persons: int, households: int, seed: int) -> dict[str, int]:
    """The export, household by household; what it holds, to check the loads against."""
    rng = random.Random(seed)
    sizes = [1] * households
    for _ in range(persons - households):
        sizes[rng.randrange(households)] += 1
    numbers, counts = bsns(rng), {"open": 0, "closed": 0}
    person = 0
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file, delimiter=";", lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for household, size in enumerate(sizes):
            surname = "".join(rng.choice(SYLLABLES) for _ in range(3)).capitalize()
            postcode = f"{rng.randrange(1000, 10000)} {rng.choice('ABCDEFGHJKLMNPRSTVWXZ')}" \
                       f"{rng.choice('ABCDEFGHJKLMNPRSTVWXZ')}".lower()
            for position in range(size):
                person += 1
                born = date(1940, 1, 1) + timedelta(days=rng.randrange(80 * 365))
                trajectory = [""] * 4
                if rng.random() < 0.4:
                    start = date(2025, 1, 1) + timedelta(days=rng.randrange(300))
                    closed = rng.random() < 0.25
                    counts["closed" if closed else "open"] += 1
                    trajectory = [f"T-{person}", rng.choice(DOMAINS), start.strftime("%d-%m-%Y"),
                                  (start + timedelta(days=60)).isoformat() if closed else ""]
                writer.writerow([
                    f"C-{person}", next(numbers) if rng.random() < 0.9 else "", surname,
                    rng.choice(GIVEN), born.strftime("%d-%m-%Y"), postcode, f"H-{household}",
                    ROLES[position] if position < len(ROLES) else "kind", *trajectory])
    return {"persons": persons, "households": households, **counts}


class Database:
    """A fresh, migrated SQLite database with the adult records' client and its actor, and
    the settings the command runs with."""

    def __init__(self, workdir: Path, name: str) -> None:
        self.url = f"sqlite:///{workdir / name}.db"
        self.file = workdir / f"{name}.db"
        self.env = {**os.environ, "WIJKGATEWAY_DATABASE_URL": self.url,
                    "WIJKGATEWAY_SIGNING_KEY_PATH": str(workdir / "signing-key.json"),
                    "WIJKGATEWAY_SECRET_KEY": "s" * 40,
                    "WIJKGATEWAY_ADAPTERS": f"gp-referral,{SYSTEM}",
                    "WIJKGATEWAY_LOG_LEVEL": "WARNING"}
        upgrade(self.url)
        engine = make_engine(self.url)
        with make_sessionmaker(engine).begin() as session:
            add_team(session, TEAM_ID, "Wijkteam", [])
            add_client(session, "Volwassenen", [adapter_scope(SYSTEM)], team_id=TEAM_ID,
                       client_id=CLIENT_ID, secret="x" * 32, system=SYSTEM)
            add_actor(session, CLIENT_ID, ACTOR, "administrator", "adult")
        engine.dispose()

    def counts(self) -> dict[str, int]:
        with sqlite3.connect(self.file) as connection:
            return {table: connection.execute(
                f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 (names above)
                for table in TABLES}

    def persons(self) -> int:
        """Committed persons, read while the command writes (WAL: readers do not wait)."""
        with sqlite3.connect(f"file:{self.file}?mode=ro", uri=True, timeout=10) as connection:
            return int(connection.execute("SELECT count(*) FROM persons").fetchone()[0])

    def verify(self) -> bool:
        from gateway.platform.settings import Settings

        settings = Settings(database_url=self.url, secret_key=self.env["WIJKGATEWAY_SECRET_KEY"],
                            signing_key_path=Path(self.env["WIJKGATEWAY_SIGNING_KEY_PATH"]))
        return verify_database(self.url, audit_context(settings, load_register())).ok


def start_import(database: Database, export: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", "from gateway.cli import app; app()", "import", SYSTEM,
         str(export), "--client", CLIENT_ID, "--actor", ACTOR],
        env=database.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen[str]) -> tuple[int, str, float]:
    """Exit code, summary line and peak RSS (MB) of the command's process."""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    out = process.stdout.read() if process.stdout else ""
    err = process.stderr.read() if process.stderr else ""
    if process.returncode not in (0, 2, -signal.SIGKILL):
        raise BenchError(f"the import exited {process.returncode}: {err.strip()[-500:]}")
    return process.returncode, out.strip(), usage.ru_maxrss / 1024


def gateway_load(workdir: Path, export: Path, rows: int) -> tuple[dict[str, Any], Database]:
    database = Database(workdir, "gateway")
    started = time.perf_counter()
    code, summary, rss = finish(start_import(database, export))
    seconds = time.perf_counter() - started
    if code != 0:
        raise BenchError(f"the import left rows out: {summary}")
    return {"rows": rows, "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds, 1),
            "peak_rss_mb": round(rss, 1), "summary": summary}, database


class Baseline:
    """The csv module and Core executemany, storing the same rows."""

    def __init__(self, workdir: Path) -> None:
        self.database = Database(workdir, "baseline")
        self.engine: Engine = make_engine(self.database.url)
        self.households: dict[str, tuple[str, int]] = {}  # huishoudnummer -> id, members
        self.seq = 0
        self.key = b"k" * 32

    def load(self, export: Path, rows: int) -> dict[str, Any]:
        started = time.perf_counter()
        with export.open(encoding="utf-8-sig", newline="") as file:
            batch: list[dict[str, str]] = []
            for row in csv.DictReader(file, delimiter=";"):
                batch.append(row)
                if len(batch) == BATCH_ROWS:
                    self.store(batch)
                    batch = []
            self.store(batch)
        seconds = time.perf_counter() - started
        self.engine.dispose()
        return {"rows": rows, "seconds": round(seconds, 2),
                "rows_per_s": round(rows / seconds, 1)}

    def store(self, batch: list[dict[str, str]]) -> None:
        now = datetime.now(UTC)
        tables: dict[Any, list[dict[str, Any]]] = {model: [] for model in (
            Person, PersonIdentifier, HouseholdRow, HouseholdIdentifier, HouseholdMember,
            Involvement, InboundMessage, ProcessingLogEntry)}
        for row in batch:
            person = new_id()
            subject = self.pseudonym(f"bsn:{row['bsn']}" if row["bsn"]
                                     else f"local:{local_system(SYSTEM)}|{row['clientnummer']}")
            tables[Person].append({"id": person, "bsn": row["bsn"] or None, "created_at": now,
                                   "birth_date": _day(row["geboortedatum"])})
            tables[PersonIdentifier].append({"id": new_id(), "person_id": person,
                                             "system": local_system(SYSTEM),
                                             "value": row["clientnummer"], "created_at": now})
            household, members = self.households.get(row["huishoudnummer"], (new_id(), 0))
            if not members:
                tables[HouseholdRow].append({"id": household, "version_id": 1,
                                             "client_id": CLIENT_ID, "created_at": now,
                                             "updated_at": now})
                tables[HouseholdIdentifier].append({
                    "system": household_system(SYSTEM), "value": row["huishoudnummer"],
                    "household_id": household, "client_id": CLIENT_ID, "created_at": now})
            self.households[row["huishoudnummer"]] = (household, members + 1)
            tables[HouseholdMember].append({
                "id": new_id(), "household_id": household, "person_id": person,
                "position": members, "role": MEMBER_ROLES[row["rol"]]})
            self.log(tables, now, "household.member_added", subject, {"household": household})
            self.message(tables, now, row, "c", "register-household", person)
            if row["trajectnummer"] and not row["trajecteinde"]:
                involvement = new_id()
                tables[Involvement].append({
                    "id": involvement, "organization": TEAM_ID, "person_id": person,
                    "source": SYSTEM, "source_ref": f"traject/{row['trajectnummer']}",
                    "started_at": now, "registered_by": CLIENT_ID, "created_at": now,
                    "sensitivity": "none"})
                self.log(tables, now, "involvement.opened", subject,
                         {"involvement": involvement})
            if row["trajectnummer"]:
                self.message(tables, now, row, "t", "open-case", person)
        with self.engine.begin() as connection:
            for model, values in tables.items():
                if values:
                    connection.execute(insert(model), values)

    def message(self, tables: dict[Any, list[dict[str, Any]]], now: datetime,
                row: dict[str, str], suffix: str, kind: str, person: str) -> None:
        """The message's id (of the row, as the command names it) and its replay digest:
        of what the message says (its cells, sorted), as the command digests its content."""
        row_key = hashlib.sha256(repr(sorted(row.items())).encode()).hexdigest()
        said = {"kind": kind, **{cell: row[cell] for cell in MESSAGE_CELLS[suffix]}}
        digest = hashlib.sha256(json.dumps(said, sort_keys=True).encode()).hexdigest()
        tables[InboundMessage].append({
            "client_id": CLIENT_ID, "message_id": f"csv-{row_key[:32]}-{suffix}",
            "system": SYSTEM, "kind": kind, "request_hash": digest, "status_code": 201,
            "outcome": {"person": f"Patient/{person}"}, "received_at": now})
        self.log(tables, now, "adapter.message", None, {"kind": kind, "persons": [person]})

    def pseudonym(self, identifier: str) -> str:
        return hmac.new(self.key, identifier.encode(), hashlib.sha256).hexdigest()

    def log(self, tables: dict[Any, list[dict[str, Any]]], now: datetime, action: str,
            subject: str | None, details: dict[str, Any]) -> None:
        self.seq += 1
        entry: dict[str, Any] = dict.fromkeys(ProcessingLogEntry.__table__.columns.keys())
        entry.update({"seq": self.seq, "id": new_id(), "recorded_at": now.isoformat(),
                      "kind": "write", "action": action, "outcome": "ok",
                      "actor_type": "client", "actor_id": CLIENT_ID, "acting_person": ACTOR,
                      "acting_role": "administrator", "sender": CLIENT_ID,
                      "subject": subject, "subject_key": "1" if subject else None,
                      "confidentiality": "normal", "retention_years": 15,
                      "details": json.dumps(details, sort_keys=True)})
        entry["hash"] = entry_leaf(entry).hex()
        tables[ProcessingLogEntry].append(entry)


def kill_and_resume(workdir: Path, export: Path, expected: dict[str, int],
                    persons: int) -> dict[str, Any]:
    """Killed once half the persons are in, then run again: the counts of an uninterrupted
    load, and a log that verifies."""
    database = Database(workdir, "killed")
    process = start_import(database, export)
    in_at_kill = 0
    while process.poll() is None:
        in_at_kill = database.persons()
        if in_at_kill >= persons // 2:
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.05)
    code, _, _ = finish(process)
    killed = code == -signal.SIGKILL
    in_at_kill = database.persons()
    resumed_code, summary, _ = finish(start_import(database, export))
    counts = database.counts()
    return {"killed": killed, "persons_in_at_kill": in_at_kill, "resumed_exit": resumed_code,
            "resumed_summary": summary,
            "lost": {t: expected[t] - n for t, n in counts.items() if n < expected[t]},
            "twice": {t: n - expected[t] for t, n in counts.items() if n > expected[t]},
            "log_verifies": database.verify()}


def _day(text: str) -> date:
    day, month, year = text.split("-")
    return date(int(year), int(month), int(day))


def measure(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """The three runs, each printed as it ends (a million rows take a while)."""
    export = workdir / "export.csv"
    started = time.perf_counter()
    made = write_export(export, args.persons, args.households, args.seed)
    made |= {"mb": round(export.stat().st_size / 2**20, 1),
             "seconds": round(time.perf_counter() - started, 1)}
    show(f"first load of {args.persons:,} persons in {args.households:,} households "
         f"({made['open']:,} open and {made['closed']:,} closed trajectories; "
         f"{made['mb']} MB CSV, made in {made['seconds']} s) on SQLite, batches of {BATCH_ROWS}")
    gateway, database = gateway_load(workdir, export, args.persons)
    expected = database.counts()
    if expected["persons"] != args.persons or expected["households"] != args.households:
        raise BenchError(f"the import stored {expected}, not the export's {made}")
    show_rate("gateway", gateway)
    show(f"peak RSS of the import: {gateway['peak_rss_mb']:,.1f} MB "
         f"(target < {TARGET_RSS_MB}: {verdict(gateway['peak_rss_mb'] < TARGET_RSS_MB)})")
    baseline, ratio = None, None
    if not args.no_baseline:
        baseline = Baseline(workdir).load(export, args.persons)
        show_rate("baseline", baseline)
        ratio = round(gateway["rows_per_s"] / baseline["rows_per_s"], 3)
        show(f"ratio gateway/baseline rows/s: {ratio:.3f} "
             f"(target >= {TARGET_RATIO}: {verdict(ratio >= TARGET_RATIO)})")
    kill = kill_and_resume(workdir, export, expected, args.persons)
    whole = kill["killed"] and kill["resumed_exit"] == 0 and not kill["lost"] \
        and not kill["twice"] and kill["log_verifies"]
    show(f"killed with {kill['persons_in_at_kill']:,} of {args.persons:,} persons in, run "
         f"again: {kill['resumed_summary']}; lost {kill['lost'] or 'none'}, twice "
         f"{kill['twice'] or 'none'}, log verifies: {kill['log_verifies']} ({verdict(whole)})")
    return {"export": made, "gateway": gateway, "baseline": baseline, "stored": expected,
            "ratio": ratio, "kill": kill}


def show(line: str) -> None:
    print(line, flush=True)


def show_rate(name: str, numbers: dict[str, Any]) -> None:
    show(f"{name:>9}: {numbers['rows_per_s']:>10,.1f} rows/s  ({numbers['seconds']:,.1f} s)")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=1_000_000, help="rows of the export")
    parser.add_argument("--households", type=int, default=300_000, help="their households")
    parser.add_argument("--seed", type=int, default=1, help="seed of the synthetic export")
    parser.add_argument("--no-baseline", action="store_true",
                        help="leave out the baseline (an hour less at 1M): no ratio, the load "
                             "and the kill run only")
    args = parse_with_smoke(parser, argv, SMOKE)
    if not 1 <= args.households <= args.persons:
        parser.error("--households must be at least 1 and at most --persons")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    result = run_in_workdir("wijkgateway-bench-bulk-import-", lambda w: measure(args, w),
                            (BenchError, RegisterError, SQLAlchemyError, OSError))
    if result is None:
        return 2
    show(f"run took {time.perf_counter() - started:.0f} s")
    print(json.dumps({"benchmark": "bulk-import", "database": "sqlite", "seed": args.seed,
                      "persons": args.persons, "households": args.households,
                      "batch_rows": BATCH_ROWS, "cpu_count": os.cpu_count() or 1, **result,
                      "target_ratio": TARGET_RATIO, "target_rss_mb": TARGET_RSS_MB}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
