"""Consent decisions per second of the gateway next to the bare database read they wrap, and
next to pycasbin, as the consent table grows from 10,000 to 1,000,000 records.

Data: synthetic households (single adults, couples, families with children 0-17, elderly;
birth dates over 0-90 years, so every minors rule applies) on a fresh SQLite database made by
the gateway's migrations, with the gateway's engine tuning (WAL, synchronous=NORMAL, foreign
keys, BEGIN IMMEDIATE). About 3-4 consent records per person across the register's activities
that require consent: person-wide, per role and per organisation, all categories or named
ones, objections, revocations (a second, inactive version), periods, given by the person, a
parent or guardian, or both. The table grows in place from one size to the next.

Questions: one (person, activity, recipient organisation + role) each; most name a person and
activity that have records, the rest any person. The same random sample is asked of:

gateway   ``gateway.consents.decisions.decide_for``: birth date and records read with the
          gateway's own statements, then the policy core decides every category.
bare-sql  the same two SELECTs (birth date; every version of the person's records for the
          activity) with SQLAlchemy Core ``fetchall()``, no policy: the limit for the gateway.
pycasbin  an Enforcer with RBAC with domains and deny-override, loaded from the same table the
          way casbin's database adapters do it: one policy line per category of each current
          version in force (subject: organisation, role or ``*``; domain: person; object:
          activity; action: category or ``*``), and ``g`` lines putting each organisation in
          its role. One ``enforce`` per category of the activity makes one decision. Its
          question is simpler than the gateway's (deny overrides instead of most-specific-wins,
          no minors rule, periods applied at load time), so it is a generous comparison.
          pycasbin scans every policy line on each call, so it runs on the first
          ``--casbin-decisions`` questions only, and only while loading plus deciding
          (extrapolated from the previous size, then from a calibration) stays within
          ``--casbin-budget`` seconds per size; larger sizes are reported as skipped.

The three alternate in rounds (their order rotating), so that drift in the machine's speed hits
all alike; each round runs in one read transaction, one thread, in-process, timed per decision
with ``perf_counter_ns``. Targets from the issue, printed next to the figures: gateway
decisions per second >= 0.5x the bare read at every size, and gateway p99 at the largest size
within 2x of p99 at the smallest. This is a measurement, not a test: it exits 0 whatever the
numbers, 2 when it cannot run.

    python bench/consent_decisions.py [--sizes 10000,100000,1000000] [--decisions 5000]
        [--warmup 500] [--casbin-decisions 50] [--casbin-budget 60] [--seed 1] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from common import parse_sizes, parse_with_smoke, print_targets, run_by_size
from sqlalchemy import Engine, bindparam, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from consent import (
    ProcessingActivity,
    Recipient,
    Register,
    RegisterError,
)
from gateway.api.processing_activities import load_register
from gateway.consents.decisions import decide_for
from gateway.platform.db.engine import make_engine, make_sessionmaker
from gateway.platform.db.migrate import upgrade
from gateway.platform.db.models import Base
from gateway.platform.db.types import utcnow

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
TARGET_RATIO = 0.5  # gateway decisions/s over bare-sql decisions/s, at every size
TARGET_P99_GROWTH = 2.0  # gateway p99 at the largest size over p99 at the smallest
ROUNDS = 10
CLIENT_ID = "bench-consent-source"
DISTRICTS = ("noord", "zuid", "oost", "west")
PAIRED_QUESTIONS = 0.7  # share of questions about a person and activity that have records
LOAD_BATCH_RECORDS = 50_000  # consent records per insert transaction
SMOKE = {"sizes": (2_000, 5_000), "decisions": 200, "warmup": 20, "casbin_decisions": 10,
         "rounds": 4}

PERSONS = Base.metadata.tables["persons"]
CONSENTS = Base.metadata.tables["consent_records"]
OAUTH_CLIENTS = Base.metadata.tables["oauth_clients"]
_C, _P = CONSENTS.c, PERSONS.c
# The gateway's decision read (gateway/consents/repository.py), written out here so the bare
# read stays the same question if the repository changes how it asks.
RECORDS_READ = select(
    _C.consent_id, _C.version, _C.person_id, _C.activity_id, _C.verdict, _C.active, _C.by_self,
    _C.by_representative, _C.recipient_organization, _C.recipient_role, _C.categories,
    _C.period_start, _C.period_end,
).where(_C.person_id == bindparam("person_id"), _C.activity_id == bindparam("activity_id"))
BIRTH_DATE_READ = select(_P.birth_date).where(_P.id == bindparam("person_id"))

CASBIN_MODEL = """
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act, eft

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = r.dom == p.dom && r.obj == p.obj && (p.act == "*" || r.act == p.act) && \
(p.sub == "*" || g(r.sub, p.sub, r.dom))
"""


class BenchError(RuntimeError):
    """The benchmark could not run (register, database)."""


@dataclass(frozen=True, slots=True)
class Question:
    person_id: str
    activity_id: str
    recipient: Recipient


@dataclass
class Series:
    """Per-decision latencies (ns) of one contender at one size, and what it permitted."""

    latencies: list[int] = field(default_factory=list)
    permitted: list[frozenset[str]] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        total_s = sum(self.latencies) / 1e9
        ms = [n / 1e6 for n in self.latencies]
        return {"decisions": len(ms), "dps": round(len(ms) / total_s, 1) if total_s else 0.0,
                "p50_ms": round(percentile(ms, 50), 4), "p99_ms": round(percentile(ms, 99), 4)}


@dataclass
class Casbin:
    """pycasbin at one size: measured, or why not."""

    series: Series = field(default_factory=Series)
    skipped: str = ""
    load_s: float = 0.0
    policies: int = 0
    enforcer: Any = None


@dataclass
class SizeResult:
    size: int
    records: int
    persons: int
    load_s: float
    gateway: Series
    bare: Series
    casbin: Casbin


# --- synthetic households ---------------------------------------------------------------------

def organizations(register: Register) -> dict[str, tuple[str, ...]]:
    """A few organisations per recipient role (``wijkteam-noord``, ...)."""
    roles = sorted(set().union(*(a.recipient_roles for a in register.activities)))
    return {role: tuple(f"{role}-{district}" for district in DISTRICTS) for role in roles}


def household_ages(rng: random.Random) -> list[int]:
    kind = rng.random()
    if kind < 0.30:  # single adult
        return [rng.randint(18, 90)]
    if kind < 0.50:  # couple
        age = rng.randint(20, 85)
        return [age, min(90, max(18, age + rng.randint(-6, 6)))]
    if kind < 0.88:  # family: one or two parents, one to three children
        parent = rng.randint(24, 56)
        parents = [parent] + ([max(18, parent + rng.randint(-5, 5))] if rng.random() < 0.7
                              else [])
        oldest_child = min(17, parent - 18)
        return parents + [rng.randint(0, oldest_child) for _ in range(rng.randint(1, 3))]
    return [rng.randint(65, 90)] * rng.randint(1, 2)  # elderly household


def grantors(rng: random.Random, age: int | None) -> tuple[bool, bool]:
    """(by_self, by_representative) as they are recorded at this age."""
    if age is None:
        return (True, False) if rng.random() < 0.7 else (False, True)
    if age < 12:
        return False, True
    if age < 16:
        return rng.choice(((True, False), (False, True), (True, True), (True, True)))
    return (True, False) if rng.random() < 0.95 else (False, True)  # adults: some have a curator


class Population:
    """The households loaded so far, grown in place to each size, and the questions' sources."""

    def __init__(self, register: Register, rng: random.Random, now: datetime) -> None:
        self.rng = rng
        self.now = now
        self.today = now.date()
        self.activities = [a for a in register.activities if a.requires_consent]
        if not self.activities:
            raise BenchError("the register has no activity that requires consent")
        self.organizations = organizations(register)
        self.person_ids: list[str] = []
        self.pairs: list[tuple[str, str]] = []  # (person, activity) of each consent
        self.records = 0

    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def grow(self, engine: Engine, target_records: int) -> None:
        """Add households until the table holds ``target_records`` rows (the last household
        may overshoot by a few), inserted in large transactions with Core executemany."""
        persons: list[dict[str, Any]] = []
        records: list[dict[str, Any]] = []
        while self.records < target_records:
            for age in household_ages(self.rng):
                person = self.person(age)
                persons.append(person)
                records += self.consents(person["id"], None if person["birth_date"] is None
                                         else age)
            if len(records) >= LOAD_BATCH_RECORDS or self.records >= target_records:
                with engine.begin() as connection:
                    connection.execute(PERSONS.insert(), persons)
                    if records:
                        connection.execute(CONSENTS.insert(), records)
                persons, records = [], []

    def person(self, age: int) -> dict[str, Any]:
        person_id = self.new_id()
        self.person_ids.append(person_id)
        born: date | None = self.today - timedelta(days=int((age + self.rng.random()) * 365.25))
        if self.rng.random() < 0.02:
            born = None  # linked without a birth date
        return {"id": person_id, "bsn": f"{100_000_000 + len(self.person_ids):09d}",
                "birth_date": born, "created_at": self.now}

    def consents(self, person_id: str, age: int | None) -> list[dict[str, Any]]:
        rng = self.rng
        rows: list[dict[str, Any]] = []
        count = rng.choices(range(8), weights=(8, 13, 17, 19, 16, 12, 9, 6))[0]
        for _ in range(count):
            activity = rng.choice(self.activities)
            self.pairs.append((person_id, activity.id))
            row = self.consent(person_id, activity, age)
            rows.append(row)
            if rng.random() < 0.10:  # revoked later: a second version, inactive
                rows.append({**row, "version": 2, "active": False,
                             "content_hash": f"{rng.getrandbits(256):064x}",
                             "resource": {**row["resource"], "status": "inactive"},
                             "recorded_at": self.now - timedelta(days=rng.randint(0, 60))})
        self.records += len(rows)
        return rows

    def consent(self, person_id: str, activity: ProcessingActivity,
                age: int | None) -> dict[str, Any]:
        rng = self.rng
        organization = role = None
        scope = rng.random()
        if scope >= 0.30:
            role = rng.choice(sorted(activity.recipient_roles))
            if scope >= 0.65:  # one named organisation
                organization, role = rng.choice(self.organizations[role]), None
        categories = "" if rng.random() < 0.55 else " ".join(sorted(rng.sample(
            sorted(activity.data_categories),
            k=rng.randint(1, min(2, len(activity.data_categories))))))
        start = end = None
        if rng.random() < 0.25:
            start = self.now - timedelta(days=rng.randint(-30, 730))
            end = start + timedelta(days=rng.randint(30, 1095)) if rng.random() < 0.8 else None
        by_self, by_representative = grantors(rng, age)
        consent_id = self.new_id()
        verdict = "deny" if rng.random() < 0.12 else "permit"
        return {
            "consent_id": consent_id, "version": 1, "person_id": person_id,
            "activity_id": activity.id, "verdict": verdict, "active": True,
            "by_self": by_self, "by_representative": by_representative,
            "recipient_organization": organization, "recipient_role": role,
            "categories": categories, "period_start": start, "period_end": end,
            "client_id": CLIENT_ID, "team_id": None, "worker": None,
            "content_hash": f"{rng.getrandbits(256):064x}",
            "resource": {"resourceType": "Consent", "id": consent_id, "status": "active",
                         "provision": {"type": verdict}},
            "recorded_at": self.now - timedelta(days=rng.randint(60, 900)),
        }

    def questions(self, rng: random.Random, count: int) -> list[Question]:
        by_id = {a.id: a for a in self.activities}
        questions = []
        for _ in range(count):
            if self.pairs and rng.random() < PAIRED_QUESTIONS:
                person_id, activity_id = rng.choice(self.pairs)
            else:
                person_id, activity_id = rng.choice(self.person_ids), rng.choice(
                    self.activities).id
            role = rng.choice(sorted(by_id[activity_id].recipient_roles))
            questions.append(Question(person_id, activity_id,
                                      Recipient(rng.choice(self.organizations[role]), role)))
        return questions


def prepare_database(database_url: str) -> None:
    """Schema by the gateway's migrations, plus the client that recorded the consents."""
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(OAUTH_CLIENTS.insert(), {
                "id": CLIENT_ID, "name": "Bench consent source", "secret_hash": None,
                "public_jwks": None, "scopes": "system/Consent.write", "team_id": None,
                "role": "wijkteam", "created_at": utcnow(), "revoked_at": None})
    finally:
        engine.dispose()


# --- the three contenders ---------------------------------------------------------------------

def ask_gateway(sessions: sessionmaker[Session], register: Register,
                questions: Sequence[Question], series: Series) -> None:
    with sessions() as session:  # one read transaction per round
        for q in questions:
            started = time.perf_counter_ns()
            decision = decide_for(session, register, q.activity_id, q.person_id, (q.recipient,))
            series.latencies.append(time.perf_counter_ns() - started)
            series.permitted.append(decision.recipients[0].permitted)


def ask_bare_sql(engine: Engine, questions: Sequence[Question], series: Series) -> None:
    with engine.connect() as connection:
        for q in questions:
            started = time.perf_counter_ns()
            connection.execute(BIRTH_DATE_READ, {"person_id": q.person_id}).fetchall()
            connection.execute(RECORDS_READ, {"person_id": q.person_id,
                                              "activity_id": q.activity_id}).fetchall()
            series.latencies.append(time.perf_counter_ns() - started)


def load_casbin(engine: Engine, register: Register,
                groups: dict[str, tuple[str, ...]]) -> tuple[Any, int]:
    """An Enforcer with the current, in-force versions as policy lines. Returns it and the
    number of policy lines."""
    import casbin  # only here: a missing pycasbin skips its column, not the benchmark

    class Rows(casbin.persist.Adapter):  # type: ignore[misc]
        """Hands over prepared lines, as a database adapter does with its rows."""

        def __init__(self, policies: list[list[str]], links: list[list[str]]) -> None:
            self.policies, self.links = policies, links

        def load_policy(self, model: Any) -> None:
            model.model["p"]["p"].policy.extend(self.policies)
            model.model["g"]["g"].policy.extend(self.links)

    columns = (_C.consent_id, _C.version, _C.person_id, _C.activity_id, _C.verdict, _C.active,
               _C.recipient_organization, _C.recipient_role, _C.categories, _C.period_start,
               _C.period_end)
    with engine.connect() as connection:
        rows = connection.execute(select(*columns)).fetchall()
    newest: dict[str, Any] = {}
    for row in rows:
        if row.consent_id not in newest or row.version > newest[row.consent_id].version:
            newest[row.consent_id] = row
    now = utcnow()
    policies = []
    for row in newest.values():
        if not row.active or (row.period_start and row.period_start > now) or (
                row.period_end and now >= row.period_end):
            continue
        subject = row.recipient_organization or row.recipient_role or "*"
        effect = "allow" if row.verdict == "permit" else "deny"
        for action in row.categories.split() or ["*"]:
            policies.append([subject, row.person_id, row.activity_id, action, effect])
    links = [[org, role, "*"] for role, orgs in groups.items() for org in orgs]
    enforcer = casbin.Enforcer(casbin.Enforcer.new_model(text=CASBIN_MODEL),
                               Rows(policies, links))
    # Organisation-in-role links hold for every person (domain), so "*" matches any domain.
    enforcer.add_named_domain_matching_func("g", casbin.util.key_match)
    return enforcer, len(policies)


def ask_casbin(enforcer: Any, categories: dict[str, tuple[str, ...]],
               questions: Sequence[Question], series: Series) -> None:
    enforce = enforcer.enforce
    for q in questions:
        started = time.perf_counter_ns()
        permitted = frozenset(c for c in categories[q.activity_id]
                              if enforce(q.recipient.organization, q.person_id, q.activity_id, c))
        series.latencies.append(time.perf_counter_ns() - started)
        series.permitted.append(permitted)


# --- the run ----------------------------------------------------------------------------------

def split(items: Sequence[Question], parts: int) -> list[Sequence[Question]]:
    return [items[i * len(items) // parts:(i + 1) * len(items) // parts] for i in range(parts)]


def casbin_prediction(previous: tuple[int, float, float] | None, records: int,
                      count: int) -> float:
    """Seconds pycasbin would take at ``records``, from (records, load s, s per decision) at the
    previous size: loading grows with the table, each decision with the policy lines too."""
    if previous is None:
        return 0.0
    prev_records, prev_load_s, prev_decision_s = previous
    growth = records / prev_records
    return growth * (prev_load_s + prev_decision_s * count)


class Bench:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.register = load_register()
        self.url = f"sqlite:///{workdir / 'consent.db'}"
        try:
            prepare_database(self.url)
        except (SQLAlchemyError, OSError) as error:
            raise BenchError(f"cannot create the database: {error}") from error
        self.engine = make_engine(self.url)
        self.sessions = make_sessionmaker(self.engine)
        self.population = Population(self.register, random.Random(args.seed), utcnow())
        self.categories = {a.id: tuple(sorted(a.data_categories))
                           for a in self.register.activities}
        self.casbin_previous: tuple[int, float, float] | None = None
        self.casbin_stopped = ""

    def close(self) -> None:
        self.engine.dispose()

    def run_size(self, size: int) -> SizeResult:
        started = time.perf_counter()
        self.population.grow(self.engine, size)
        load_s = time.perf_counter() - started
        rng = random.Random(f"{self.args.seed}-{size}")
        warmup = self.population.questions(rng, self.args.warmup)
        questions = self.population.questions(rng, self.args.decisions)
        gateway, bare = Series(), Series()
        ask_gateway(self.sessions, self.register, warmup, Series())
        ask_bare_sql(self.engine, warmup, Series())
        casbin = self.prepare_casbin(questions[:self.args.casbin_decisions])
        rounds = min(self.args.rounds, len(questions))
        chunks = split(questions, rounds)
        casbin_chunks = split(questions[:self.args.casbin_decisions], rounds)
        contenders: list[Callable[[int], None]] = [
            lambda i: ask_gateway(self.sessions, self.register, chunks[i], gateway),
            lambda i: ask_bare_sql(self.engine, chunks[i], bare),
        ]
        if not casbin.skipped:
            contenders.append(lambda i: ask_casbin(
                casbin.enforcer, self.categories, casbin_chunks[i], casbin.series))
        for i in range(rounds):
            order = contenders[i % len(contenders):] + contenders[:i % len(contenders)]
            for ask in order:
                ask(i)
        if not casbin.skipped:
            per_decision_s = sum(casbin.series.latencies) / 1e9 / len(casbin.series.latencies)
            self.casbin_previous = (self.population.records, casbin.load_s, per_decision_s)
            casbin.enforcer = None  # its policy lines can be large; free them now
        return SizeResult(size, self.population.records, len(self.population.person_ids),
                          load_s, gateway, bare, casbin)

    def prepare_casbin(self, questions: Sequence[Question]) -> Casbin:
        result = Casbin()
        budget, count = self.args.casbin_budget, len(questions)
        if self.casbin_stopped:
            result.skipped = f"skipped: would exceed {budget:g} s (as at {self.casbin_stopped})"
            return result
        if not count:
            result.skipped = "skipped: --casbin-decisions 0"
            return result
        records = self.population.records
        predicted = casbin_prediction(self.casbin_previous, records, count)
        if predicted > budget:
            return self.stop_casbin(result, records, predicted)
        started = time.perf_counter()
        try:
            result.enforcer, result.policies = load_casbin(
                self.engine, self.register, self.population.organizations)
        except ImportError:
            result.skipped = "skipped: pycasbin is not installed (pip install -e '.[test]')"
            return result
        result.load_s = time.perf_counter() - started
        # Calibrate on a few questions (not measured), then decide whether the rest fits.
        probe = Series()
        ask_casbin(result.enforcer, self.categories, questions[:3], probe)
        per_decision_s = sum(probe.latencies) / 1e9 / len(probe.latencies)
        predicted = result.load_s + per_decision_s * count
        if predicted > budget:
            result.enforcer = None
            return self.stop_casbin(result, records, predicted)
        return result

    def stop_casbin(self, result: Casbin, records: int, predicted: float) -> Casbin:
        self.casbin_stopped = f"{records:,} records"
        result.skipped = (f"skipped: would exceed {self.args.casbin_budget:g} s "
                          f"(predicted {predicted:,.0f} s)")
        return result


# --- the report -------------------------------------------------------------------------------

def percentile(values: list[float], pct: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def agreement(gateway: Series, casbin: Series) -> float:
    """Share of pycasbin's decisions that permitted the same categories as the gateway."""
    pairs = list(zip(gateway.permitted, casbin.permitted, strict=False))
    return sum(a == b for a, b in pairs) / len(pairs) if pairs else 0.0


def size_json(result: SizeResult) -> dict[str, Any]:
    gateway, bare = result.gateway.summary(), result.bare.summary()
    casbin: dict[str, Any]
    if result.casbin.skipped:
        casbin = {"skipped": result.casbin.skipped}
    else:
        casbin = {**result.casbin.series.summary(), "policies": result.casbin.policies,
                  "load_s": round(result.casbin.load_s, 2),
                  "agrees_with_gateway": round(agreement(result.gateway, result.casbin.series),
                                               3)}
    permits = sum(bool(p) for p in result.gateway.permitted)
    return {
        "size": result.size, "records": result.records, "persons": result.persons,
        "load_s": round(result.load_s, 2), "gateway": gateway, "bare_sql": bare,
        "ratio": round(gateway["dps"] / bare["dps"], 3) if bare["dps"] else 0.0,
        "gateway_permit_share": round(permits / len(result.gateway.permitted), 3),
        "casbin": casbin,
    }


def report(args: argparse.Namespace, results: list[SizeResult], elapsed_s: float) -> None:
    sizes = [size_json(r) for r in results]
    print(f"wijkgateway consent decisions on SQLite, 1 thread in-process: {args.decisions} "
          f"questions per size after {args.warmup} warm-up, {min(args.rounds, args.decisions)} "
          f"alternating rounds, seed {args.seed}; pycasbin on the first "
          f"{args.casbin_decisions} of them within {args.casbin_budget:g} s per size")
    print(f"{'records':>10}{'persons':>9}{'load s':>8} |{'gateway/s':>11}{'p99 ms':>8} |"
          f"{'bare-sql/s':>11}{'p99 ms':>8} |{'pycasbin/s':>11}{'p99 ms':>9} |{'gw/bare':>8}")
    for s in sizes:
        gateway, bare, casbin = s["gateway"], s["bare_sql"], s["casbin"]
        casbin_cells = ((f"{'skipped':>11}{'-':>9}") if "skipped" in casbin
                        else f"{casbin['dps']:>11,.1f}{casbin['p99_ms']:>9.1f}")
        print(f"{s['records']:>10,}{s['persons']:>9,}{s['load_s']:>8.1f} |"
              f"{gateway['dps']:>11,.0f}{gateway['p99_ms']:>8.3f} |"
              f"{bare['dps']:>11,.0f}{bare['p99_ms']:>8.3f} |{casbin_cells} |{s['ratio']:>8.3f}")
    ratio_ok, growth = print_targets(sizes, "decisions", TARGET_RATIO, TARGET_P99_GROWTH)
    measured = [s for s in sizes if "skipped" not in s["casbin"]]
    for s in sizes:
        casbin = s["casbin"]
        if "skipped" in casbin:
            print(f"pycasbin at {s['size']:,}: {casbin['skipped']}")
        else:
            print(f"pycasbin at {s['size']:,}: {casbin['decisions']} decisions on "
                  f"{casbin['policies']:,} policy lines, loaded in {casbin['load_s']:.1f} s, "
                  f"same categories as the gateway in {100 * casbin['agrees_with_gateway']:.0f}%")
    casbin_up_to = measured[-1]["size"] if measured else None
    print(f"pycasbin measured up to: {f'{casbin_up_to:,}' if casbin_up_to else 'none'}; "
          f"run took {elapsed_s:.0f} s")
    print(json.dumps({
        "benchmark": "consent", "database": "sqlite", "mode": "1 thread, in-process",
        "seed": args.seed, "decisions": args.decisions, "warmup": args.warmup,
        "rounds": min(args.rounds, args.decisions), "casbin_decisions": args.casbin_decisions,
        "casbin_budget_s": args.casbin_budget, "cpu_count": os.cpu_count() or 1,
        "results": sizes, "target_ratio": TARGET_RATIO, "ratio_target_met": ratio_ok,
        "gateway_p99_growth": round(growth, 3), "target_p99_growth": TARGET_P99_GROWTH,
        "casbin_measured_up_to": casbin_up_to, "elapsed_s": round(elapsed_s, 1),
    }))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=parse_sizes, default=DEFAULT_SIZES,
                        help="consent records per step, increasing, comma-separated "
                        "(default 10000,100000,1000000)")
    parser.add_argument("--decisions", type=int, default=5000, help="measured questions per size")
    parser.add_argument("--warmup", type=int, default=500, help="unmeasured questions first")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="alternating rounds")
    parser.add_argument("--casbin-decisions", type=int, default=50,
                        help="questions pycasbin answers per size (the first of the sample)")
    parser.add_argument("--casbin-budget", type=float, default=60.0,
                        help="seconds pycasbin may take per size, loading included")
    parser.add_argument("--seed", type=int, default=1, help="seed of the synthetic data")
    args = parse_with_smoke(parser, argv, SMOKE)
    if args.decisions < 1 or args.rounds < 1 or args.warmup < 0 or args.casbin_decisions < 0:
        parser.error("--decisions and --rounds must be positive, --warmup and "
                     "--casbin-decisions not negative")
    args.casbin_decisions = min(args.casbin_decisions, args.decisions)
    return args


def main(argv: list[str] | None = None) -> int:
    return run_by_size(Bench, parse_args(argv), "wijkgateway-bench-consent-", report,
                       (BenchError, RegisterError))


if __name__ == "__main__":
    sys.exit(main())
