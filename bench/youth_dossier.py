"""Youth dossier (ZCD-style XML) messages through the gateway's whole inbound path, next to the
raw work they wrap, measured in one run.

Each message registers a new household of two parents and three children (all by BSN, the
children with both parents holding parental authority), as the youth dossier sends it.

- *gateway*: ``receive_message`` with the zcd adapter, as ``POST /adapters/zcd/messages``
  runs it without the HTTP layer: hardened read, XSD check, parse, identity matching for each
  member, the same-household rule, the household and its members, the parental authority,
  the message id with its answer, the processing log; one transaction per message.
- *baseline*: the same bytes read by lxml with the same hardening and checked against the
  same XSD by libxml2, then the same domain rows (persons, the household, its id, members,
  authority, the message id) inserted with SQLAlchemy Core, one transaction per message, on a
  second fresh database with the same engine tuning. No identity matching, no rules, no log.

The two alternate in rounds so a drifting machine hits both alike; the ratio gateway/baseline
is what the project tracks (issue 13: >= 0.3). A measurement, not a test: it exits 0 whatever
the ratio, 2 when it cannot run.

    python bench/youth_dossier.py [--messages 2000] [--warmup 100] [--rounds 10] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from common import bsns, parse_with_smoke, run_in_workdir, verdict
from lxml import etree
from sqlalchemy import Engine, insert
from sqlalchemy.exc import SQLAlchemyError

from adapters import get_adapter
from consent import RegisterError
from gateway.api.processing_activities import load_register
from gateway.audit.log import audit_context, audit_sessions
from gateway.auth.actors import add_actor
from gateway.auth.bearer import Actor, Caller
from gateway.auth.clients import add_client
from gateway.auth.scopes import adapter_scope
from gateway.pipeline.messages import APPLIED, receive_message
from gateway.platform.db.engine import make_engine, make_sessionmaker
from gateway.platform.db.migrate import upgrade
from gateway.platform.db.models import (
    HouseholdIdentifier,
    HouseholdMember,
    HouseholdRow,
    InboundMessage,
    Person,
    RelatedPersonRow,
    new_id,
)
from gateway.platform.db.types import utcnow
from gateway.platform.logging import configure_logging
from gateway.platform.settings import Settings
from gateway.referrals.teams import add_team
from schemas.household import household_system

TARGET_RATIO = 0.3
ROUNDS = 10
CLIENT_ID = "jeugddossier-bench"
TEAM_ID = "wijkteam-noord"
NAMESPACE = "urn:wijkgateway:zcd:1.0"
SMOKE = {"messages": 60, "warmup": 10, "rounds": 2}


class BenchError(RuntimeError):
    """The benchmark could not run (register, database)."""


def message(number: int, people: list[str]) -> bytes:
    """A household of two parents and three children, both parents holding authority."""
    def member(nr: int, bsn: str, role: str, born: str, authority: str = "") -> str:
        return (f'<zcd:lid nr="{nr}"><zcd:bsn>{bsn}</zcd:bsn><zcd:geboortedatum>{born}'
                f"</zcd:geboortedatum><zcd:rol>{role}</zcd:rol>{authority}</zcd:lid>")

    authority = "<zcd:gezagdrager>1</zcd:gezagdrager><zcd:gezagdrager>2</zcd:gezagdrager>"
    members = (member(1, people[0], "ouder", "1985-02-14")
               + member(2, people[1], "ouder", "1983-07-01")
               + "".join(member(3 + i, people[2 + i], "kind", f"201{i + 2}-05-06", authority)
                         for i in range(3)))
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<zcd:bericht xmlns:zcd="{NAMESPACE}" '
            f'versie="1.0"><zcd:berichtId>m-{number}</zcd:berichtId><zcd:gezin>'
            f"<zcd:gezinId>h-{number}</zcd:gezinId>{members}</zcd:gezin></zcd:bericht>"
            ).encode()


@dataclass
class Work:
    body: bytes
    people: list[str]
    number: int


class Gateway:
    """The gateway's inbound path, in-process, on its own database."""

    def __init__(self, workdir: Path) -> None:
        url = f"sqlite:///{workdir / 'gateway.db'}"
        upgrade(url)
        self.engine = make_engine(url)
        with make_sessionmaker(self.engine).begin() as session:
            add_team(session, TEAM_ID, "Wijkteam Noord", [])
            add_client(session, "Jeugddossier", [adapter_scope("zcd")], team_id=TEAM_ID,
                       client_id=CLIENT_ID, secret="x" * 32, system="zcd")
            add_actor(session, CLIENT_ID, "jeugd-1", "worker", "youth")
        settings = Settings(environment="development", database_url=url,
                            adapters=["gp-referral", "zcd"])
        self.sessions = audit_sessions(self.engine, audit_context(settings, load_register()))
        self.caller = Caller(CLIENT_ID, frozenset({adapter_scope("zcd")}), TEAM_ID, "wijkteam",
                             TEAM_ID, Actor("jeugd-1", "worker", "youth"))
        self.adapter = get_adapter("zcd")
        self.max_depth = settings.max_json_depth

    def run(self, work: Work) -> None:
        with self.sessions.begin() as session:
            answer = receive_message(session, self.caller, self.adapter, work.body,
                                     self.max_depth, transport="bench")
        if answer.status_code != APPLIED:
            raise BenchError(f"message {work.number} was not applied")


class Baseline:
    """lxml + libxml2's XSD check + the same domain rows with Core."""

    def __init__(self, workdir: Path) -> None:
        url = f"sqlite:///{workdir / 'baseline.db'}"
        upgrade(url)
        self.engine: Engine = make_engine(url)
        with make_sessionmaker(self.engine).begin() as session:
            add_team(session, TEAM_ID, "Wijkteam Noord", [])
            add_client(session, "Jeugddossier", [adapter_scope("zcd")], team_id=TEAM_ID,
                       client_id=CLIENT_ID, secret="x" * 32, system="zcd")
        xsd = files("adapters.zcd").joinpath("xsd/zcd-bericht.xsd")
        self.schema = etree.XMLSchema(etree.parse(str(xsd)))
        self.parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                                      huge_tree=False)

    def run(self, work: Work) -> None:
        root = etree.fromstring(work.body, self.parser)
        if not self.schema.validate(root):
            raise BenchError(f"message {work.number} does not fit the XSD")
        now = utcnow()
        persons = [{"id": new_id(), "bsn": bsn, "created_at": now} for bsn in work.people]
        household = new_id()
        with self.engine.begin() as connection:
            connection.execute(insert(Person), persons)
            connection.execute(insert(HouseholdRow), [{
                "id": household, "version_id": 1, "client_id": CLIENT_ID, "created_at": now,
                "updated_at": now}])
            connection.execute(insert(HouseholdIdentifier), [{
                "system": household_system("zcd"), "value": f"h-{work.number}",
                "household_id": household, "client_id": CLIENT_ID, "created_at": now}])
            connection.execute(insert(HouseholdMember), [{
                "id": new_id(), "household_id": household, "person_id": p["id"],
                "position": i, "role": "parent" if i < 2 else "child"}
                for i, p in enumerate(persons)])
            connection.execute(insert(RelatedPersonRow), [{
                "id": new_id(), "person_id": child["id"], "relationship": "PRN",
                "bsn": parent["bsn"], "client_id": CLIENT_ID, "team_id": TEAM_ID,
                "created_at": now, "representation": "parental-authority"}
                for child in persons[2:] for parent in persons[:2]])
            connection.execute(insert(InboundMessage), [{
                "client_id": CLIENT_ID, "message_id": f"m-{work.number}", "system": "zcd",
                "kind": "register-household", "request_hash": "0" * 64, "status_code": 201,
                "outcome": {}, "received_at": now}])


def timed(contender: Gateway | Baseline, works: list[Work]) -> list[float]:
    durations = []
    for work in works:
        started = time.perf_counter()
        contender.run(work)
        durations.append(time.perf_counter() - started)
    return durations


def summary(durations: list[float]) -> dict[str, float]:
    ordered = sorted(durations)
    return {"messages": len(ordered), "mps": round(len(ordered) / sum(ordered), 1),
            "p50_ms": round(statistics.median(ordered) * 1000, 3),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 3)}


def measure(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    rng = random.Random(args.seed)
    people = bsns(rng)
    total = args.warmup + args.messages
    works = [Work(b"", [next(people) for _ in range(5)], n) for n in range(total)]
    for work in works:
        work.body = message(work.number, work.people)
    gateway, baseline = Gateway(workdir), Baseline(workdir)
    try:
        timed(gateway, works[:args.warmup])
        timed(baseline, works[:args.warmup])
        measured = works[args.warmup:]
        times: dict[str, list[float]] = {"gateway": [], "baseline": []}
        rounds = min(args.rounds, len(measured))
        for i in range(rounds):
            part = measured[i * len(measured) // rounds:(i + 1) * len(measured) // rounds]
            times["gateway"] += timed(gateway, part)
            times["baseline"] += timed(baseline, part)
    finally:
        gateway.engine.dispose()
        baseline.engine.dispose()
    result = {name: summary(durations) for name, durations in times.items()}
    result["ratio"] = round(result["gateway"]["mps"] / result["baseline"]["mps"], 3)
    result["rounds"] = rounds
    return result


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000, help="measured messages")
    parser.add_argument("--warmup", type=int, default=100, help="unmeasured messages first")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="alternating rounds")
    parser.add_argument("--seed", type=int, default=1, help="seed of the synthetic BSNs")
    args = parse_with_smoke(parser, argv, SMOKE)
    if args.messages < 1 or args.rounds < 1 or args.warmup < 0:
        parser.error("--messages and --rounds must be positive, --warmup not negative")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure_logging("WARNING", json=False, stream=sys.stderr)  # no line per message
    started = time.perf_counter()
    result = run_in_workdir("wijkgateway-bench-youth-dossier-", lambda w: measure(args, w),
                            (BenchError, RegisterError, SQLAlchemyError, OSError))
    if result is None:
        return 2
    gateway, baseline = result["gateway"], result["baseline"]
    print(f"youth dossier households (2 parents, 3 children) on SQLite, 1 thread in-process: "
          f"{args.messages} messages after {args.warmup} warm-up, {result['rounds']} rounds")
    for name, numbers in (("gateway", gateway), ("baseline", baseline)):
        print(f"{name:>9}: {numbers['mps']:>8,.1f} messages/s  p50 {numbers['p50_ms']:.3f} ms  "
              f"p99 {numbers['p99_ms']:.3f} ms")
    print(f"ratio gateway/baseline messages/s: {result['ratio']:.3f} "
          f"(target >= {TARGET_RATIO}: {verdict(result['ratio'] >= TARGET_RATIO)}); "
          f"run took {time.perf_counter() - started:.0f} s")
    print(json.dumps({"benchmark": "youth-dossier", "database": "sqlite",
                      "mode": "1 thread, in-process", "seed": args.seed,
                      "messages": args.messages, "warmup": args.warmup,
                      "cpu_count": os.cpu_count() or 1, **result,
                      "target_ratio": TARGET_RATIO}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
