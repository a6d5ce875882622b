"""Household plan changes per second through the gateway's whole path, next to the raw work
they wrap, with 1,000 and with 100,000 households in the database (issue 14).

The plan: one household of four (two parents by BSN, two children of 11 and 6), the youth
dossier's plan of 12 goals on the members' life domains (one of the whole household) and 30
actions, with its roles, drafted by the youth unit's system. The mother consents to the adult
unit seeing her finances, work and housing goals, the father his work goal; nothing of the
children. Both units' systems are subscribed to ``CarePlan`` as a feed.

Each change is the plan as the youth unit's system has it (the latest version) with one goal's
or one action's description reworded, goals and actions in turn, sent as JSON bytes with
``If-Match`` its version. The change bodies are made beforehand; both contenders get the same
bytes.

gateway   what ``PUT /fhir/CarePlan/{id}`` runs, without HTTP and the token check, in-process:
          the plan found and locked, the body decoded, ``gateway.plans.service.change`` (parse
          and validate, the members resolved, three-way merge with the current version, the
          rules, the new version with the old one kept, the processing log, then the push:
          the adult unit's system decided per member and life domain, each disclosure and
          withholding logged, its view of the plan rendered and enqueued in its feed), the
          answer as the writer sees it, one commit; then, as the feed does when that system
          reads it, the queued plan rendered by its adapter (``menscentraal``: the adult
          records' JSON ``plan``) and checked against ``uitgaand.schema.json``. The send-time
          decision again (``recheck_plan``) is not in it.
baseline  the same bytes parsed with ``fhir.resources`` R4B ``CarePlan`` (``orjson`` then
          ``model_validate``), then with SQLAlchemy Core in one transaction the old version
          copied into ``resource_versions`` and the ``care_plans`` row updated, on another
          household's plan row of the same database.

Data: a fresh SQLite database made by the gateway's migrations, with the gateway's engine
tuning. Per household four persons, the household, its members and its youth dossier id, a
team's involvement with each member (24 teams), a small plan (2 goals, 2 actions) and the
mother's consent to the plan; rows go in with Core in batches of ``LOAD_BATCH`` households, and
the tables grow in place from one size to the next. The measured household is one of them.

The two alternate in rounds (their order rotating), one thread; each rate is also given by
this thread's CPU time, which leaves out what other processes take of a shared machine's cores.
Targets (issue 14): gateway
changes per second >= 0.3x the baseline at every size, and the gateway's rate at 100,000
households >= 0.8x its rate at 1,000. A measurement, not a test: it exits 0 whatever the
numbers, 2 when it cannot run.

    python bench/plan_updates.py [--sizes 1000,100000] [--changes 1000] [--warmup 50]
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
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson
from common import parse_sizes, parse_with_smoke, run_by_size, sequential_bsns, verdict
from fhir.resources.R4B.careplan import CarePlan
from sqlalchemy import Engine, bindparam, insert, literal, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from adapters.base import InvalidMessage
from consent import Register, RegisterError
from gateway.api.processing_activities import load_register
from gateway.audit.log import audit_context, audit_sessions
from gateway.auth.bearer import Caller
from gateway.auth.clients import add_client
from gateway.auth.scopes import (
    SCOPE_CARE_PLAN_READ,
    SCOPE_CARE_PLAN_WRITE,
    SCOPE_CONSENT_WRITE,
    SCOPE_SUBSCRIPTION_WRITE,
    adapter_scope,
)
from gateway.outbox.egress import Policy
from gateway.outbox.feed import Position, entries_after
from gateway.outbox.rendering import Undeliverable, render_for
from gateway.pipeline.consent import receive_consent
from gateway.plans import fhir, service
from gateway.plans.visibility import ALL_LISTS
from gateway.platform.db.engine import make_engine, make_sessionmaker
from gateway.platform.db.migrate import upgrade
from gateway.platform.db.models import (
    CarePlanRow,
    ConsentRow,
    HouseholdIdentifier,
    HouseholdMember,
    HouseholdRow,
    Involvement,
    OAuthClient,
    OutboxMessage,
    Person,
    ResourceVersion,
)
from gateway.platform.db.types import utcnow
from gateway.platform.errors import GatewayError
from gateway.platform.fhir_json import decode_json_object, require_own_id
from gateway.platform.logging import configure_logging
from gateway.platform.settings import Settings
from gateway.referrals.teams import add_team
from gateway.subscriptions.service import create_subscription
from schemas import ACTIVITY_SYSTEM, CATEGORY_SYSTEM, ROLE_SYSTEM
from schemas.household import household_system
from schemas.plan_domains import LIST_SYSTEM, DomainLists
from schemas.plans import Action, Goal, Party, Plan, Role

DEFAULT_SIZES = (1_000, 100_000)
TARGET_RATIO = 0.3
TARGET_GROWTH = 0.8  # the gateway's rate at the largest size / at the smallest
ROUNDS = 10
LOAD_BATCH = 10_000  # households per insert transaction
SMOKE = {"sizes": (100, 300), "changes": 40, "warmup": 4, "rounds": 2}
TEAM = "wijkteam-noord"
TEAMS = (TEAM, *(f"wijkteam-{i:02d}" for i in range(23)))
YOUTH, ADULTS = "jeugddossier-bench", "volwassenen-bench"
SYSTEMS = {YOUTH: ("zcd", "wijkteam-jeugd"), ADULTS: ("menscentraal", "wijkteam-volwassenen")}
SCOPES = (SCOPE_CARE_PLAN_READ, SCOPE_CARE_PLAN_WRITE, SCOPE_CONSENT_WRITE,
          SCOPE_SUBSCRIPTION_WRITE)
ENABLED = ("gp-referral", "zcd", "menscentraal")
TEAM_IDENTIFIER = "https://wijkgateway.nl/fhir/NamingSystem/team"
# the fixed plan's goals: (member index, or None for the whole household; list; code; actions)
GOALS = ((0, "zrm", "financien", 3), (0, "zrm", "werk-en-opleiding", 2),
         (None, "zrm", "huisvesting", 3), (0, "zrm", "geestelijke-gezondheid", 2),
         (1, "zrm", "werk-en-opleiding", 3), (1, "zrm", "middelengebruik", 2),
         (1, "zrm", "justitie", 2), (2, "youth", "opvoeding", 3), (2, "youth", "school", 3),
         (2, "youth", "psychisch-welzijn", 2), (3, "youth", "opvoeding", 3),
         (3, "youth", "gezondheid", 2))
# what each parent lets the adult unit see of the plan (data categories)
CONSENTS = {0: ("identification", "finances", "work-and-education", "housing"),
            1: ("identification", "work-and-education")}
_PLANS, _VERSIONS = CarePlanRow.__table__, ResourceVersion.__table__
# the baseline's store: the version it replaces kept, then the row updated
KEEP_OLD = insert(_VERSIONS).from_select(
    ["resource_type", "resource_id", "version_id", "resource", "superseded_at"],
    select(literal("CarePlan"), _PLANS.c.id, _PLANS.c.version_id, _PLANS.c.resource,
           bindparam("now")).where(_PLANS.c.id == bindparam("plan_id")))
STORE_NEW = update(_PLANS).where(_PLANS.c.id == bindparam("plan_id")).values(
    resource=bindparam("resource"), status=bindparam("status"),
    version_id=_PLANS.c.version_id + 1, updated_at=bindparam("now"))


class BenchError(RuntimeError):
    """The benchmark could not run (register, database, a change refused)."""


@dataclass(frozen=True, slots=True)
class Change:
    body: bytes
    base: int  # If-Match: the version the body is


@dataclass
class Series:
    """Per-change latencies (ns) of one contender at one size, and the CPU time this thread
    spent on them (ns): on a shared machine the wall clock also counts others' work."""

    latencies: list[int] = field(default_factory=list)
    cpu_ns: int = 0

    def summary(self) -> dict[str, float]:
        total_s = sum(self.latencies) / 1e9
        ms = sorted(n / 1e6 for n in self.latencies)
        return {"changes": len(ms), "cps": round(len(ms) / total_s, 1) if total_s else 0.0,
                "cpu_cps": round(len(ms) / (self.cpu_ns / 1e9), 1) if self.cpu_ns else 0.0,
                "p50_ms": round(statistics.median(ms), 3) if ms else 0.0,
                "p99_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.99))], 3) if ms else 0.0}


@dataclass
class SizeResult:
    size: int
    load_s: float
    gateway: Series
    baseline: Series
    pushed: dict[str, int]


def caller_of(client_id: str) -> Caller:
    system, role = SYSTEMS[client_id]
    return Caller(client_id, frozenset({*SCOPES, adapter_scope(system)}), TEAM, role, TEAM)


class Population:
    """Households of four with their members, involvements, plan and the mother's consent,
    added in place with Core. The first is the measured one (helped by ``TEAM``)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.consent: dict[str, Any] = {}  # the measured mother's row, copied for each other
        self.people = sequential_bsns()
        self.households: list[tuple[str, list[str]]] = []  # (household id, person ids)
        self.now = utcnow()

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def grow(self, engine: Engine, target: int) -> None:
        while len(self.households) < target:
            rows: dict[Any, list[dict[str, Any]]] = {t: [] for t in (
                Person, HouseholdRow, HouseholdIdentifier, HouseholdMember, Involvement,
                CarePlanRow, ConsentRow)}
            for _ in range(min(LOAD_BATCH, target - len(self.households))):
                self.household(rows)
            with engine.begin() as connection:
                for table, values in rows.items():
                    if values:
                        connection.execute(insert(table), values)

    def household(self, rows: dict[Any, list[dict[str, Any]]]) -> None:
        number, now = len(self.households), self.now
        household, persons = self.uuid(), [self.uuid() for _ in range(4)]
        born = (date(1985, 2, 14), date(1983, 7, 1), now.date() - timedelta(days=11 * 365 + 40),
                now.date() - timedelta(days=6 * 365 + 100))
        rows[Person] += [{"id": p, "bsn": next(self.people), "birth_date": b, "created_at": now}
                         for p, b in zip(persons, born, strict=True)]
        rows[HouseholdRow].append({"id": household, "version_id": 1, "client_id": YOUTH,
                                   "created_at": now, "updated_at": now})
        rows[HouseholdIdentifier].append({
            "system": household_system("zcd"), "value": f"h-{number}",
            "household_id": household, "client_id": YOUTH, "created_at": now})
        rows[HouseholdMember] += [{"id": self.uuid(), "household_id": household,
                                   "person_id": p, "position": i,
                                   "role": "parent" if i < 2 else "child"}
                                  for i, p in enumerate(persons)]
        team = TEAM if number == 0 else self.rng.choice(TEAMS)
        rows[Involvement] += [{"id": self.uuid(), "organization": team, "person_id": p,
                               "source": "bench", "source_ref": f"case-{number}",
                               "started_at": now, "registered_by": YOUTH, "created_at": now,
                               "sensitivity": "none"} for p in persons]
        self.households.append((household, persons))
        if number == 0:
            return  # the measured household: its plan and consents through the gateway
        plan_id = self.uuid()
        rows[CarePlanRow].append({
            "id": plan_id, "household_id": household, "status": "draft", "version_id": 1,
            "content_version": 1, "client_id": YOUTH, "agreement": {}, "approvals": {},
            "sources": SMALL_PLAN_SOURCES, "resource": orjson.loads(
                SMALL_PLAN.replace(_PLAN_ID, plan_id).replace(_HOUSEHOLD, household)
                .replace(_PARENT, persons[0]).replace(_CHILD, persons[2])),
            "created_at": now, "updated_at": now})
        rows[ConsentRow].append({**self.consent, "consent_id": self.uuid(),
                                 "person_id": persons[0], "recorded_at": now})


def _goal(number: int, member: str | None, list_name: str, code: str) -> Goal:
    return Goal(id=f"doel-{number:02d}", domain_system=LIST_SYSTEM + list_name,
                domain_code=code, description=f"doel {number} op {code}", lifecycle="active",
                member=member, start=date(2026, 9, 1))


def _action(number: int, goal: Goal, member: str, version: int = 0) -> Action:
    owner = Party(system=TEAM_IDENTIFIER, value=TEAM)
    return Action(id=f"actie-{number:02d}", goal=goal.id, member=member, owner=owner,
                  description=f"actie {number}, versie {version}", status="requested",
                  due=date(2027, 3, 1) + timedelta(days=number))


def fixed_plan(household: str, persons: list[str]) -> Plan:
    """The measured plan: 12 goals, 30 actions and the roles of a household of four."""
    goals, actions = {}, {}
    for number, (member, list_name, code, count) in enumerate(GOALS):
        goal = _goal(number, None if member is None else persons[member], list_name, code)
        goals[goal.id] = goal
        for _ in range(count):
            action = _action(len(actions), goal, goal.member or persons[0])
            actions[action.id] = action
    roles = (Role("regiehouder", Party(reference=f"Patient/{persons[0]}", kind="Patient")),
             Role("casusregisseur", Party(system=TEAM_IDENTIFIER, value=TEAM)))
    return Plan(household=household, status="draft", title="Gezinsplan", goals=goals,
                actions=actions, roles=roles)


def _small_plan() -> str:
    """Another household's plan, rendered once with stand-ins for its ids: two goals (a
    parent's finances, a child's school), an action each."""
    goals = [_goal(0, _PARENT, "zrm", "financien"), _goal(1, _CHILD, "youth", "school")]
    actions = [_action(i, goal, _PARENT) for i, goal in enumerate(goals)]
    plan = Plan(household=_HOUSEHOLD, status="draft", goals={g.id: g for g in goals},
                actions={a.id: a for a in actions})
    return orjson.dumps(fhir.render(plan, _PLAN_ID, ALL_LISTS, [], {"versionId": "1"})).decode()


_PLAN_ID, _HOUSEHOLD, _PARENT, _CHILD = "@plan@", "@household@", "@parent@", "@child@"
SMALL_PLAN = _small_plan()
SMALL_PLAN_SOURCES = {f"{kind}/{key}": YOUTH for kind, keys in (
    ("Goal", ("doel-00", "doel-01")), ("Task", ("actie-00", "actie-01"))) for key in keys}


def changes(plan: Plan, plan_id: str, version: int, count: int
            ) -> tuple[list[Change], Plan]:
    """``count`` changes, each on the version the one before it made: a goal's description,
    then an action's, in turn through the plan; and the plan after the last."""
    goals, actions = sorted(plan.goals), sorted(plan.actions)
    made = []
    for n in range(count):
        if n % 2 == 0:
            key = goals[(n // 2) % len(goals)]
            plan = replace(plan, goals={**plan.goals, key: replace(
                plan.goals[key], description=f"doel {key}, versie {version + 1}")})
        else:
            key = actions[(n // 2) % len(actions)]
            plan = replace(plan, actions={**plan.actions, key: replace(
                plan.actions[key], description=f"actie {key}, versie {version + 1}")})
        document = fhir.render(plan, plan_id, ALL_LISTS, [], {"versionId": str(version)})
        made.append(Change(orjson.dumps(document), version))
        version += 1
    return made, plan


class Gateway:
    """The youth unit's system changing the plan; the adult unit's system reading its feed."""

    def __init__(self, sessions: sessionmaker[Session], register: Register, plan_id: str
                 ) -> None:
        self.sessions, self.register, self.plan_id = sessions, register, plan_id
        self.caller, self.lists = caller_of(YOUTH), DomainLists(tuple(ALL_LISTS.names))
        self.position = Position(0, 0)
        # notices rendered for the adult unit, and the items (of 42) the last one showed it
        self.pushed = {"messages": 0, "shown": 0}

    def run(self, change: Change) -> None:
        with self.sessions.begin() as session:
            row = service.locked(session, service.plan_of(session, self.caller, self.plan_id))
            document = decode_json_object(change.body, 64)
            require_own_id(document, row.id, "CarePlan")
            row = service.change(session, self.register, self.caller, self.lists, row,
                                 document, change.base)
            service.shown(session, self.register, self.caller, row)  # the answer
        self.send()

    def send(self) -> None:
        """The new notices in the adult unit's feed, each rendered and checked as its system
        takes it."""
        with self.sessions() as session:
            client = session.get(OAuthClient, ADULTS)
            assert client is not None  # made by prepare()
            for position, outbox_id in entries_after(session, ADULTS, self.position, 10):
                message = session.get(OutboxMessage, outbox_id)
                assert message is not None  # entries reference their message
                try:
                    render_for(client, message, message.payload, ENABLED)
                except Undeliverable as refused:
                    raise BenchError(f"the plan could not be rendered: {refused}") from None
                self.position = position
                self.pushed["messages"] += 1
                self.pushed["shown"] = len(message.decision["shown"])


class Baseline:
    """fhir.resources' parse and the row stored with Core, nothing else."""

    def __init__(self, engine: Engine, plan_id: str) -> None:
        self.engine, self.plan_id = engine, plan_id

    def run(self, change: Change) -> None:
        document = orjson.loads(change.body)
        plan = CarePlan.model_validate(document)
        now = utcnow()
        with self.engine.begin() as connection:
            connection.execute(KEEP_OLD, {"plan_id": self.plan_id, "now": now})
            connection.execute(STORE_NEW, {"plan_id": self.plan_id, "resource": document,
                                           "status": plan.status, "now": now})


def consent_body(person_id: str, categories: Sequence[str]) -> bytes:
    """A parent's consent to the adult unit seeing these categories of their part of the
    plan, as the team's system records it."""
    return orjson.dumps({
        "resourceType": "Consent", "status": "active",
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                              "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": f"Patient/{person_id}"},
        "performer": [{"reference": f"Patient/{person_id}"}],
        "provision": {
            "type": "permit", "purpose": [{"system": ACTIVITY_SYSTEM, "code": "household-plan"}],
            "actor": [{"role": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                "code": "IRCP"}]}, "reference": {"identifier": {
                    "system": ROLE_SYSTEM, "value": SYSTEMS[ADULTS][1]}}}],
            "code": [{"coding": [{"system": CATEGORY_SYSTEM, "code": c}]} for c in categories]}})


class Bench:
    """One database; the measured household's plan drafted through the gateway, the others
    loaded with Core."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.register = load_register()
        url = f"sqlite:///{workdir / 'plan-updates.db'}"
        try:
            upgrade(url)
        except (SQLAlchemyError, OSError) as error:
            raise BenchError(f"cannot create the database: {error}") from error
        self.engine = make_engine(url)
        settings = Settings(environment="development", database_url=url, adapters=list(ENABLED))
        self.sessions = audit_sessions(self.engine, audit_context(settings, self.register))
        self.population = Population(random.Random(args.seed))
        self.plan, self.plan_id = self.prepare()
        self.version = 1
        self.gateway = Gateway(self.sessions, self.register, self.plan_id)
        self.baseline = Baseline(self.engine, self.baseline_plan())

    def prepare(self) -> tuple[Plan, str]:
        """Teams, both units' systems, the measured household with its consents and plan,
        both systems subscribed to the plan; the consent row other households copy."""
        with make_sessionmaker(self.engine).begin() as session:
            for team in TEAMS:
                add_team(session, team, f"Wijkteam {team}", [])
            for client_id, (system, role) in SYSTEMS.items():
                add_client(session, client_id, sorted(caller_of(client_id).scopes),
                           team_id=TEAM, client_id=client_id, secret="x" * 32, role=role,
                           system=system)
        self.population.grow(self.engine, 1)
        household, persons = self.population.households[0]
        plan = fixed_plan(household, persons)
        policy = Policy(allow_http=False, allow_internal=False, allowed_networks=(),
                        own_origins=frozenset())
        with self.sessions.begin() as session:
            for member, categories in CONSENTS.items():
                receive_consent(session, caller_of(ADULTS), self.register,
                                consent_body(persons[member], categories), 64)
            row = service.create(session, self.register, caller_of(YOUTH),
                                 DomainLists(tuple(ALL_LISTS.names)),
                                 fhir.render(plan, "new", ALL_LISTS, [], {}))
            for client_id in SYSTEMS:
                create_subscription(session, caller_of(client_id), {
                    "resourceType": "Subscription", "status": "requested",
                    "criteria": "CarePlan", "reason": "the household plan",
                    "channel": {"type": "message"}}, policy)
            consent = session.scalars(select(ConsentRow).where(
                ConsentRow.person_id == persons[0])).one()
            self.population.consent = {
                column.key: getattr(consent, column.key) for column in ConsentRow.__mapper__.columns
                if column.key not in ("row_id", "consent_id", "person_id", "recorded_at")}
            return plan, row.id

    def baseline_plan(self) -> str:
        """Another household's plan row, which the baseline rewrites."""
        self.population.grow(self.engine, 2)
        with self.engine.connect() as connection:
            plan_id = connection.scalar(select(_PLANS.c.id).where(
                _PLANS.c.household_id == self.population.households[1][0]))
        if plan_id is None:
            raise BenchError("the baseline's plan row is missing")
        return str(plan_id)

    def close(self) -> None:
        self.engine.dispose()

    def run_size(self, size: int) -> SizeResult:
        started = time.perf_counter()
        self.population.grow(self.engine, size)
        load_s = time.perf_counter() - started
        works, self.plan = changes(self.plan, self.plan_id, self.version,
                                   self.args.warmup + self.args.changes)
        self.version += len(works)
        for work in works[:self.args.warmup]:
            self.gateway.run(work)
            self.baseline.run(work)
        measured = works[self.args.warmup:]
        rounds = min(self.args.rounds, len(measured))
        gateway, baseline = Series(), Series()
        for i in range(rounds):
            chunk = measured[i * len(measured) // rounds:(i + 1) * len(measured) // rounds]
            contenders = [lambda c=chunk: timed(self.gateway.run, c, gateway),
                          lambda c=chunk: timed(self.baseline.run, c, baseline)]
            for run in contenders[i % 2:] + contenders[:i % 2]:
                run()
        self.check()
        return SizeResult(size, load_s, gateway, baseline, dict(self.gateway.pushed))

    def check(self) -> None:
        """Every change stored as a version of its own, and pushed to the adult unit."""
        with self.sessions() as session:
            row = session.get(CarePlanRow, self.plan_id)
            stored = row.version_id if row else None
        if stored != self.version or self.gateway.pushed["messages"] != self.version - 1:
            raise BenchError(f"expected version {self.version} and {self.version - 1} "
                             f"notices; found version {stored} and "
                             f"{self.gateway.pushed['messages']} notices")


def timed(run: Callable[[Change], None], works: Sequence[Change], series: Series) -> None:
    cpu_started = time.thread_time_ns()
    for work in works:
        started = time.perf_counter_ns()
        run(work)
        series.latencies.append(time.perf_counter_ns() - started)
    series.cpu_ns += time.thread_time_ns() - cpu_started


def size_json(result: SizeResult) -> dict[str, Any]:
    gateway, baseline = result.gateway.summary(), result.baseline.summary()
    return {"size": result.size, "load_s": round(result.load_s, 2), "gateway": gateway,
            "baseline": baseline,
            "ratio": round(gateway["cps"] / baseline["cps"], 3) if baseline["cps"] else 0.0,
            "cpu_ratio": round(gateway["cpu_cps"] / baseline["cpu_cps"], 3)
            if baseline["cpu_cps"] else 0.0, "pushed": result.pushed}


def report(args: argparse.Namespace, results: list[SizeResult], elapsed_s: float) -> None:
    sizes = [size_json(r) for r in results]
    rounds = min(args.rounds, args.changes)
    items = sum(count for *_, count in GOALS) + len(GOALS)
    print(f"wijkgateway household plan changes on SQLite, 1 thread in-process: a plan of "
          f"{len(GOALS)} goals and {items - len(GOALS)} actions for 4 members; "
          f"{args.changes} changes per size after {args.warmup} warm-up, {rounds} "
          f"alternating rounds, seed {args.seed}")
    print(f"{'households':>11}{'load s':>8} |{'gateway/s':>10}{'p50 ms':>8}{'p99 ms':>8} |"
          f"{'baseline/s':>11}{'p50 ms':>8}{'p99 ms':>8} |{'gw/base':>8}")
    for s in sizes:
        gateway, baseline = s["gateway"], s["baseline"]
        print(f"{s['size']:>11,}{s['load_s']:>8.1f} |{gateway['cps']:>10,.1f}"
              f"{gateway['p50_ms']:>8.2f}{gateway['p99_ms']:>8.2f} |{baseline['cps']:>11,.1f}"
              f"{baseline['p50_ms']:>8.2f}{baseline['p99_ms']:>8.2f} |{s['ratio']:>8.3f}")
    print(f"pushed to the adult unit: {sizes[-1]['pushed']['messages']} notices rendered and "
          f"checked, the last showing {sizes[-1]['pushed']['shown']} of {items} items")
    ratio_ok = all(s["ratio"] >= TARGET_RATIO for s in sizes)
    print("ratio gateway/baseline changes/s: " + ", ".join(
        f"{s['size']:,}: {s['ratio']:.3f}" for s in sizes) +
        f" (target >= {TARGET_RATIO} at every size: {verdict(ratio_ok)})")
    first, last = sizes[0]["gateway"]["cps"], sizes[-1]["gateway"]["cps"]
    growth = last / first if first else 0.0
    print(f"gateway changes/s at {sizes[-1]['size']:,} / at {sizes[0]['size']:,}: "
          f"{growth:.2f}x (target >= {TARGET_GROWTH}x: {verdict(growth >= TARGET_GROWTH)})")
    cpu_growth = sizes[-1]["gateway"]["cpu_cps"] / sizes[0]["gateway"]["cpu_cps"] \
        if sizes[0]["gateway"]["cpu_cps"] else 0.0
    print("by this thread's CPU time: ratio " + ", ".join(
        f"{s['size']:,}: {s['cpu_ratio']:.3f}" for s in sizes) +
        f"; gateway at {sizes[-1]['size']:,} / at {sizes[0]['size']:,}: {cpu_growth:.2f}x")
    print(f"run took {elapsed_s:.0f} s")
    print(json.dumps({
        "benchmark": "plan-updates", "database": "sqlite", "mode": "1 thread, in-process",
        "seed": args.seed, "changes": args.changes, "warmup": args.warmup, "rounds": rounds,
        "plan": {"members": 4, "goals": len(GOALS), "actions": items - len(GOALS)},
        "cpu_count": os.cpu_count() or 1, "results": sizes, "target_ratio": TARGET_RATIO,
        "ratio_target_met": ratio_ok, "gateway_growth": round(growth, 3),
        "gateway_cpu_growth": round(cpu_growth, 3),
        "target_growth": TARGET_GROWTH, "elapsed_s": round(elapsed_s, 1)}))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=parse_sizes, default=DEFAULT_SIZES,
                        help="households per step, increasing, comma-separated "
                        "(default 1000,100000)")
    parser.add_argument("--changes", type=int, default=1000, help="measured changes per size")
    parser.add_argument("--warmup", type=int, default=50, help="unmeasured changes first")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="alternating rounds")
    parser.add_argument("--seed", type=int, default=1, help="seed of the synthetic data")
    args = parse_with_smoke(parser, argv, SMOKE)
    if args.changes < 1 or args.rounds < 1 or args.warmup < 0 or args.sizes[0] < 2:
        parser.error("--changes and --rounds must be positive, --warmup not negative, and "
                     "the smallest size at least 2 households")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure_logging("WARNING", json=False, stream=sys.stderr)  # no line per change
    return run_by_size(Bench, args, "wijkgateway-bench-plan-updates-", report,
                       (BenchError, RegisterError, SQLAlchemyError, OSError, GatewayError,
                        InvalidMessage))


if __name__ == "__main__":
    sys.exit(main())
