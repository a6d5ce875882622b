"""Who-else-helps answers per second next to the bare indexed lookup they wrap, as the
gateway grows from 10,000 to 1,000,000 persons.

Data: a fresh SQLite database made by the gateway's migrations, with the gateway's engine
tuning. Per person one team involvement (never ended), a GP practice's (60%), a second
team's (20%), Veilig Thuis (2%) and mental health care (6%); 15% of the optional ones ended
last year. Teams are organisations, practices and Veilig Thuis and GGZ clients, so every
answer names organisations the way the gateway does. Rows go in with the driver's executemany in
batches of ``LOAD_BATCH`` persons per transaction; the tables grow in place from one size to
the next.

Questions: a random person, asked by the team involved with them (so each answers 200).

gateway   ``gateway.disclosure.who_else_helps.who_else_helps`` and the CareTeam render: the
          merge set, the involvements read, the involvement check, the register decision, the
          consent decision where a sensitive involvement needs one, organisation names, and
          the processing-log entry composed (written at commit, which this does not time: a
          read transaction per round, as the consent benchmark does).
bare-sql  ``SELECT organization, started_at, ended_at, sensitivity FROM involvements WHERE
          person_id = ?`` on the same index with SQLAlchemy Core ``fetchall()``.

The two alternate in rounds (their order rotating), one thread, in-process, timed per answer
with ``perf_counter_ns``. Targets (issue 12): gateway answers per second >= 0.5x the bare
lookup, and gateway p99 at the largest size within 2x of p99 at the smallest. A measurement,
not a test: it exits 0 whatever the numbers, 2 when it cannot run.

    python bench/who_else_helps.py [--sizes 10000,1000000] [--answers 5000] [--warmup 500]
        [--rounds 10] [--seed 1] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

from common import parse_sizes, parse_with_smoke, print_targets, run_by_size
from sqlalchemy import Engine, bindparam, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from consent import Register, RegisterError
from gateway.api.fhir.who_else_helps import render_care_team
from gateway.api.processing_activities import load_register
from gateway.audit.log import audit_context, audit_sessions
from gateway.auth.bearer import Caller
from gateway.disclosure.who_else_helps import who_else_helps
from gateway.platform.db.engine import make_engine
from gateway.platform.db.migrate import upgrade
from gateway.platform.db.models import Base
from gateway.platform.db.types import utcnow
from gateway.platform.settings import Settings

DEFAULT_SIZES = (10_000, 1_000_000)
TARGET_RATIO = 0.5
TARGET_P99_GROWTH = 2.0
ROUNDS = 10
LOAD_BATCH = 50_000  # persons per insert transaction
LOAD_CACHE_KIB = 1_048_576  # SQLite page cache while loading: random keys touch every page
SMOKE = {"sizes": (1_000, 3_000), "answers": 200, "warmup": 20, "rounds": 4}
TEAMS = tuple(f"wijkteam-{i:02d}" for i in range(24))
PRACTICES = tuple(f"agb:01{i:06d}" for i in range(300))
VEILIG_THUIS = tuple(f"ura:900002{i:02d}" for i in range(3))
GGZ = tuple(f"ura:900003{i:02d}" for i in range(10))
# (organisations, share of persons, source)
OPTIONAL = ((PRACTICES, 0.6, "referral-sent"), (TEAMS, 0.2, "fake"),
            (VEILIG_THUIS, 0.02, "fake"), (GGZ, 0.06, "fake"))
SENSITIVITY = {**dict.fromkeys(VEILIG_THUIS, "veilig-thuis"), **dict.fromkeys(GGZ,
                                                                            "sensitive-care")}
ENDED_SHARE = 0.15

INVOLVEMENTS = Base.metadata.tables["involvements"]
_I = INVOLVEMENTS.c
INSERT_PERSON = "INSERT INTO persons (id, bsn, created_at) VALUES (?, ?, ?)"
INSERT_INVOLVEMENT = (
    "INSERT INTO involvements (id, organization, person_id, source, source_ref, started_at, "
    "ended_at, registered_by, created_at, sensitivity) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
BARE_LOOKUP = select(_I.organization, _I.started_at, _I.ended_at, _I.sensitivity).where(
    _I.person_id == bindparam("person_id"))


class BenchError(RuntimeError):
    """The benchmark could not run (register, database)."""


@dataclass
class Series:
    """Per-answer latencies (ns) of one contender at one size."""

    latencies: list[int] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        total_s = sum(self.latencies) / 1e9
        ms = [n / 1e6 for n in self.latencies]
        return {"answers": len(ms), "aps": round(len(ms) / total_s, 1) if total_s else 0.0,
                "p50_ms": round(percentile(ms, 50), 4), "p99_ms": round(percentile(ms, 99), 4)}


@dataclass(frozen=True, slots=True)
class Question:
    person_id: str
    team: str


@dataclass
class SizeResult:
    size: int
    involvements: int
    load_s: float
    gateway: Series
    bare: Series


class Population:
    """Persons and their involvements, added in place; remembers each person's team.

    Rows go in as the driver's own executemany of ready-made tuples (datetimes as the text
    SQLAlchemy stores on SQLite), with a large page cache while loading only (the gateway's
    own setting while measuring): the loader's speed trick, kept here; the gateway reads the
    rows through its own types."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.now = utcnow()
        self.persons: list[tuple[str, str]] = []  # (person id, the team that asks)
        self.involvements = 0
        self.bsn_base = 10_000_000
        self.days: dict[int, str] = {}

    def grow(self, engine: Engine, target: int) -> None:
        while len(self.persons) < target:
            count = min(LOAD_BATCH, target - len(self.persons))
            persons, involvements = [], []
            for _ in range(count):
                person_id = self.uuid()
                team = self.rng.choice(TEAMS)
                persons.append((person_id, self.bsn(), self.day(0)))
                involvements.append(self.involvement(person_id, team, "fake", ended=False))
                for organizations, share, source in OPTIONAL:
                    if self.rng.random() < share:
                        involvements.append(self.involvement(
                            person_id, self.rng.choice(organizations), source,
                            ended=self.rng.random() < ENDED_SHARE))
                self.persons.append((person_id, team))
            with engine.begin() as connection:
                default = connection.exec_driver_sql("PRAGMA cache_size").scalar()
                connection.exec_driver_sql(f"PRAGMA cache_size = -{LOAD_CACHE_KIB}")
                connection.exec_driver_sql(INSERT_PERSON, persons)
                connection.exec_driver_sql(INSERT_INVOLVEMENT, involvements)
                connection.exec_driver_sql(f"PRAGMA cache_size = {default}")
            self.involvements += len(involvements)

    def uuid(self) -> str:
        """A random UUID's text (of this run's seed), without uuid.UUID's checks."""
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def bsn(self) -> str:
        """The next BSN passing the elfproef (9..2 and -1 weights), as residents have one."""
        while True:
            self.bsn_base += 1
            digits = [int(c) for c in f"{self.bsn_base:08d}"]
            check = sum(w * d for w, d in zip(range(9, 1, -1), digits, strict=True)) % 11
            if check < 10:
                return f"{self.bsn_base:08d}{check}"

    def day(self, days_ago: int) -> str:
        """``now`` minus whole days, as SQLite stores a UTC datetime."""
        if days_ago not in self.days:
            moment = (self.now - timedelta(days=days_ago)).astimezone(UTC)
            self.days[days_ago] = moment.strftime("%Y-%m-%d %H:%M:%S.%f")
        return self.days[days_ago]

    def involvement(self, person_id: str, organization: str, source: str,
                    ended: bool) -> tuple[str | None, ...]:
        start = self.day(self.rng.randrange(30, 900))
        return (self.uuid(), organization, person_id, source,
                f"case-{self.rng.getrandbits(40)}", start,
                self.day(self.rng.randrange(1, 29)) if ended else None, "bench-source", start,
                SENSITIVITY.get(organization, "none"))

    def questions(self, rng: random.Random, count: int) -> list[Question]:
        return [Question(*rng.choice(self.persons)) for _ in range(count)]


def prepare_database(database_url: str) -> None:
    """Schema by the gateway's migrations, plus the organisations answers name."""
    upgrade(database_url)
    engine = make_engine(database_url)
    now = utcnow()
    clients = [(f"bench-{o.replace(':', '-')}", f"Organisation {o}", o,
                "veilig-thuis" if o in VEILIG_THUIS else "ggz" if o in GGZ else "huisarts")
               for o in PRACTICES + VEILIG_THUIS + GGZ]
    try:
        with engine.begin() as connection:
            connection.execute(Base.metadata.tables["organizations"].insert(), [
                {"id": t, "name": f"Wijkteam {t[-2:]}", "created_at": now} for t in TEAMS])
            connection.execute(Base.metadata.tables["oauth_clients"].insert(), [
                {"id": client_id, "name": name, "secret_hash": None, "public_jwks": None,
                 "scopes": "system/CareTeam.read", "team_id": None, "role": role,
                 "organization": organization, "created_at": now, "revoked_at": None}
                for client_id, name, organization, role in clients])
    finally:
        engine.dispose()


def ask_gateway(sessions: sessionmaker[Session], register: Register,
                questions: Sequence[Question], series: Series) -> None:
    with sessions() as session:  # one read transaction per round; the log is not written
        for q in questions:
            caller = Caller(f"bench-{q.team}", frozenset(), q.team, "wijkteam", q.team)
            started = time.perf_counter_ns()
            render_care_team(q.person_id, who_else_helps(session, register, caller,
                                                         q.person_id))
            series.latencies.append(time.perf_counter_ns() - started)
        session.rollback()


def ask_bare_sql(engine: Engine, questions: Sequence[Question], series: Series) -> None:
    with engine.connect() as connection:
        for q in questions:
            started = time.perf_counter_ns()
            connection.execute(BARE_LOOKUP, {"person_id": q.person_id}).fetchall()
            series.latencies.append(time.perf_counter_ns() - started)


def split(items: Sequence[Question], parts: int) -> list[Sequence[Question]]:
    return [items[i * len(items) // parts:(i + 1) * len(items) // parts] for i in range(parts)]


class Bench:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.register = load_register()
        self.url = f"sqlite:///{workdir / 'who-else-helps.db'}"
        try:
            prepare_database(self.url)
        except (SQLAlchemyError, OSError) as error:
            raise BenchError(f"cannot create the database: {error}") from error
        self.engine = make_engine(self.url)
        settings = Settings(environment="development", database_url=self.url)
        self.sessions = audit_sessions(self.engine, audit_context(settings, self.register))
        self.population = Population(random.Random(args.seed))

    def close(self) -> None:
        self.engine.dispose()

    def run_size(self, size: int) -> SizeResult:
        started = time.perf_counter()
        self.population.grow(self.engine, size)
        load_s = time.perf_counter() - started
        rng = random.Random(f"{self.args.seed}-{size}")
        warmup = self.population.questions(rng, self.args.warmup)
        chunks = split(self.population.questions(rng, self.args.answers),
                       min(self.args.rounds, self.args.answers))
        ask_gateway(self.sessions, self.register, warmup, Series())
        ask_bare_sql(self.engine, warmup, Series())
        gateway, bare = Series(), Series()
        for i, chunk in enumerate(chunks):
            contenders = [lambda c=chunk: ask_gateway(self.sessions, self.register, c, gateway),
                          lambda c=chunk: ask_bare_sql(self.engine, c, bare)]
            for ask in contenders[i % 2:] + contenders[:i % 2]:
                ask()
        return SizeResult(size, self.population.involvements, load_s, gateway, bare)


def percentile(values: list[float], pct: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def size_json(result: SizeResult) -> dict[str, Any]:
    gateway, bare = result.gateway.summary(), result.bare.summary()
    return {"size": result.size, "involvements": result.involvements,
            "load_s": round(result.load_s, 2), "gateway": gateway, "bare_sql": bare,
            "ratio": round(gateway["aps"] / bare["aps"], 3) if bare["aps"] else 0.0}


def report(args: argparse.Namespace, results: list[SizeResult], elapsed_s: float) -> None:
    sizes = [size_json(r) for r in results]
    rounds = min(args.rounds, args.answers)
    print(f"wijkgateway who-else-helps on SQLite, 1 thread in-process: {args.answers} "
          f"questions per size after {args.warmup} warm-up, {rounds} alternating rounds, "
          f"seed {args.seed}")
    print(f"{'persons':>10}{'involvements':>13}{'load s':>8} |{'gateway/s':>11}{'p99 ms':>8} |"
          f"{'bare-sql/s':>11}{'p99 ms':>8} |{'gw/bare':>8}")
    for s in sizes:
        gateway, bare = s["gateway"], s["bare_sql"]
        print(f"{s['size']:>10,}{s['involvements']:>13,}{s['load_s']:>8.1f} |"
              f"{gateway['aps']:>11,.0f}{gateway['p99_ms']:>8.3f} |"
              f"{bare['aps']:>11,.0f}{bare['p99_ms']:>8.3f} |{s['ratio']:>8.3f}")
    ratio_ok, growth = print_targets(sizes, "answers", TARGET_RATIO, TARGET_P99_GROWTH)
    print(f"run took {elapsed_s:.0f} s")
    print(json.dumps({
        "benchmark": "who-else-helps", "database": "sqlite", "mode": "1 thread, in-process",
        "seed": args.seed, "answers": args.answers, "warmup": args.warmup, "rounds": rounds,
        "cpu_count": os.cpu_count() or 1, "results": sizes, "target_ratio": TARGET_RATIO,
        "ratio_target_met": ratio_ok, "gateway_p99_growth": round(growth, 3),
        "target_p99_growth": TARGET_P99_GROWTH, "elapsed_s": round(elapsed_s, 1)}))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=parse_sizes, default=DEFAULT_SIZES,
                        help="persons per step, increasing, comma-separated "
                        "(default 10000,1000000)")
    parser.add_argument("--answers", type=int, default=5000, help="measured questions per size")
    parser.add_argument("--warmup", type=int, default=500, help="unmeasured questions first")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="alternating rounds")
    parser.add_argument("--seed", type=int, default=1, help="seed of the synthetic data")
    args = parse_with_smoke(parser, argv, SMOKE)
    if args.answers < 1 or args.rounds < 1 or args.warmup < 0:
        parser.error("--answers and --rounds must be positive, --warmup not negative")
    return args


def main(argv: list[str] | None = None) -> int:
    return run_by_size(Bench, parse_args(argv), "wijkgateway-bench-who-else-helps-", report,
                       (BenchError, RegisterError))


if __name__ == "__main__":
    sys.exit(main())
