"""Referral throughput of the gateway next to the raw work it wraps, measured in one run.

Gateway: ``wijkgateway serve`` (uvicorn) in a subprocess, on a fresh SQLite database, with
concurrent keep-alive clients that POST ServiceRequests with a bearer token.
Baseline: the same ServiceRequest bodies, parsed with fhir.resources and stored as the same
rows (person, referral, task, involvements) with plain SQLAlchemy Core, one transaction per
referral, on a second fresh database with the same engine tuning.

The two alternate in rounds, so that drift in the machine's speed (shared CPUs) hits both
alike; the ratio gateway/baseline is what the project tracks. This is a measurement, not a
test: it exits 0 whatever the ratio, 1 when a referral was not accepted, 2 when it cannot run.

    python bench/referrals.py [--requests 2000] [--concurrency 8] [--warmup 200] [--smoke]
"""

from __future__ import annotations

import argparse
import base64
import http.client
import itertools
import json
import os
import queue
import secrets
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from common import parse_with_smoke, run_in_workdir
from fhir.resources.R4B.servicerequest import ServiceRequest
from sqlalchemy import Connection, Engine, select

from gateway.auth.token_exchange import exchange_form
from gateway.cli.demo_data import DEMO_ACTORS, demo_secret, load_demo
from gateway.platform.db.engine import make_engine, make_sessionmaker
from gateway.platform.db.migrate import upgrade
from gateway.platform.db.models import Base, new_id
from gateway.platform.db.types import utcnow
from schemas import AGB_SYSTEM, BSN_SYSTEM, is_valid_bsn

TARGET_RATIO = 0.35
ROUNDS = 10
CLIENT_ID = "demo-huisarts"
TEAM_ID = "wijkteam-noord"
REQUESTER_AGB = "01234567"
DISTINCT_RESIDENTS = 1000
SERVER_START_TIMEOUT_S = 30.0
HTTP_TIMEOUT_S = 30.0
BASELINE_MODE = "1 thread, in-process"
SMOKE = {"requests": 40, "concurrency": 2, "warmup": 10}

PERSONS = Base.metadata.tables["persons"]
SERVICE_REQUESTS = Base.metadata.tables["service_requests"]
TASKS = Base.metadata.tables["tasks"]
INVOLVEMENTS = Base.metadata.tables["involvements"]


class BenchError(RuntimeError):
    """The benchmark could not run (server did not start, no token)."""


@dataclass
class Outcome:
    """What gateway requests produced: latencies of the 201s, reasons for the rest."""

    latencies: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    first_failure: str = ""

    def merge(self, other: Outcome) -> None:
        self.latencies += other.latencies
        self.failures += other.failures
        self.first_failure = self.first_failure or other.first_failure


@dataclass
class Totals:
    """Measured time summed over the rounds (warm-up excluded)."""

    gateway_s: float = 0.0
    baseline_s: float = 0.0
    client_cpu_s: float = 0.0
    outcome: Outcome = field(default_factory=Outcome)  # its failures include the warm-up's


# --- workload ---------------------------------------------------------------------------------

def valid_bsns(count: int) -> list[str]:
    """Distinct BSNs that pass the elfproef, so the gateway accepts every referral."""
    candidates = (f"{prefix:08d}{check}" for prefix in itertools.count(10_000_000)
                  for check in range(10))
    return list(itertools.islice(filter(is_valid_bsn, candidates), count))


def referral_body(identifier: str, bsn: str) -> bytes:
    """A GP referral as Dutch GP systems send it: BSN and AGB as logical identifiers."""
    return orjson.dumps({
        "resourceType": "ServiceRequest",
        "identifier": [{"system": "urn:oid:2.16.528.1.1007.3.3.1234.1", "value": identifier}],
        "status": "active",
        "intent": "order",
        "subject": {"identifier": {"system": BSN_SYSTEM, "value": bsn}},
        "requester": {"type": "Practitioner",
                      "identifier": {"system": AGB_SYSTEM, "value": REQUESTER_AGB}},
        "performer": [{"reference": f"Organization/{TEAM_ID}"}],
        "reasonCode": [{"text": "Schulden en opvoedvragen; gezin vraagt ondersteuning"}],
        "note": [{"text": "Moeder is telefonisch bereikbaar na 15:00. Graag contact binnen "
                          "twee weken."}],
    })


def referral_bodies(count: int) -> list[bytes]:
    """Unique identifiers (a repeat would be 409); residents recur, as they do in practice."""
    bsns = valid_bsns(DISTINCT_RESIDENTS)
    return [referral_body(f"bench-{i:07d}", bsns[i % len(bsns)]) for i in range(count)]


def split(bodies: list[bytes], parts: int) -> list[list[bytes]]:
    return [bodies[i * len(bodies) // parts:(i + 1) * len(bodies) // parts]
            for i in range(parts)]


def prepare_database(database_url: str) -> None:
    """Schema and demo team + GP client, identical for the gateway and the baseline."""
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with make_sessionmaker(engine).begin() as session:
            load_demo(session)
    finally:
        engine.dispose()


# --- baseline ---------------------------------------------------------------------------------

def store_referral(connection: Connection, body: bytes) -> None:
    """The floor under the gateway's work: parse, then person upsert-or-select, referral, task,
    and the two involvements a referral starts (sender and team)."""
    document = orjson.loads(body)
    resource = ServiceRequest.model_validate(document)
    bsn = resource.subject.identifier.value
    identifier = resource.identifier[0]
    agb = f"agb:{resource.requester.identifier.value}"
    now = utcnow()
    person_id = connection.scalar(select(PERSONS.c.id).where(PERSONS.c.bsn == bsn))
    if person_id is None:
        person_id = new_id()
        connection.execute(PERSONS.insert(), {"id": person_id, "bsn": bsn, "created_at": now})
    referral_id = new_id()
    connection.execute(SERVICE_REQUESTS.insert(), {
        "id": referral_id, "version_id": 1, "client_id": CLIENT_ID, "team_id": TEAM_ID,
        "person_id": person_id, "requester": agb, "identifier_system": identifier.system,
        "identifier_value": identifier.value, "resource": document,
        "created_at": now, "updated_at": now})
    connection.execute(TASKS.insert(), {
        "id": new_id(), "version_id": 1, "service_request_id": referral_id,
        "client_id": CLIENT_ID, "team_id": TEAM_ID, "requester": agb,
        "status": "requested", "details": {}, "created_at": now, "updated_at": now})
    connection.execute(INVOLVEMENTS.insert(), [
        {"id": new_id(), "organization": organization, "person_id": person_id,
         "source": source, "source_ref": f"ServiceRequest/{referral_id}", "started_at": now,
         "registered_by": CLIENT_ID, "created_at": now}
        for organization, source in ((f"client:{CLIENT_ID}", "referral-sent"),
                                     (TEAM_ID, "referral-received"))])


def store_referrals(engine: Engine, bodies: list[bytes]) -> float:
    """One transaction per referral, one thread: SQLite serialises writers and the GIL
    serialises Python, so more threads give the baseline lock waits, not throughput.
    Returns the wall time."""
    started = time.perf_counter()
    for body in bodies:
        with engine.begin() as connection:
            store_referral(connection, body)
    return time.perf_counter() - started


# --- gateway ----------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wijkgateway_command() -> Path:
    """The CLI installed next to this interpreter (the project's virtualenv)."""
    command = Path(sys.executable).with_name("wijkgateway")
    if not command.exists():
        raise BenchError(f"{command} not found; run `make install` first")
    return command


def server_env(workdir: Path, database_url: str, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "WIJKGATEWAY_ENVIRONMENT": "test",
        # outside development the built-in keys are refused; the run makes its own
        "WIJKGATEWAY_SECRET_KEY": secrets.token_urlsafe(32),
        "WIJKGATEWAY_PSEUDONYM_KEY": secrets.token_urlsafe(32),
        "WIJKGATEWAY_DATABASE_URL": database_url,
        "WIJKGATEWAY_SIGNING_KEY_PATH": str(workdir / "signing-key.json"),
        "WIJKGATEWAY_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "WIJKGATEWAY_LOG_LEVEL": "WARNING",  # two INFO lines per referral would be measured too
    }


@contextmanager
def running_gateway(workdir: Path, database_url: str, workers: int) -> Iterator[int]:
    """Serve on a free port until the block ends; yields the port. Always stops the server."""
    with gateway_process(workdir, database_url, workers) as (port, _server):
        yield port


@contextmanager
def gateway_process(workdir: Path, database_url: str,
                    workers: int) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """``running_gateway``, yielding the server process too (to read its memory)."""
    port = free_port()
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [str(wijkgateway_command()), "serve", "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(workers)],
            env=server_env(workdir, database_url, port), stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_healthy(server, port, log_path)
            yield port, server
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def wait_until_healthy(server: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchError(f"the server exited with {server.returncode}:\n"
                             f"{log_path.read_text(errors='replace')[-2000:]}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        try:
            status, _ = call(connection, "GET", "/healthz")
        except OSError:
            status = 0
        finally:
            connection.close()
        if status == 200:
            return
        time.sleep(0.1)
    raise BenchError(f"the server did not answer /healthz within {SERVER_START_TIMEOUT_S} s")


def call(connection: http.client.HTTPConnection, method: str, path: str,
         body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """One request on a kept-alive connection; the body is read so the connection is reusable."""
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    return response.status, response.read()


def fetch_token(port: int, client_id: str = CLIENT_ID) -> str:
    basic = base64.b64encode(f"{client_id}:{demo_secret(client_id)}".encode()).decode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=HTTP_TIMEOUT_S)
    try:
        form = exchange_form(client_id, demo_secret(client_id), DEMO_ACTORS[client_id],
                             f"http://127.0.0.1:{port}/oauth/token")
        status, body = call(connection, "POST", "/oauth/token",
                            urllib.parse.urlencode(form).encode(),
                            {"Authorization": f"Basic {basic}",
                             "Content-Type": "application/x-www-form-urlencoded"})
    finally:
        connection.close()
    if status != 200:
        raise BenchError(f"token request answered {status}: {body[:300]!r}")
    return json.loads(body)["access_token"]


class Clients:
    """Concurrent HTTP clients, each on its own keep-alive connection (stdlib http.client:
    the cheapest client, because the load generator shares the CPUs with the server)."""

    def __init__(self, port: int, concurrency: int, token: str) -> None:
        self.headers = {"Authorization": f"Bearer {token}",
                        "Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}
        self.connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=HTTP_TIMEOUT_S)
                            for _ in range(concurrency)]
        self.pool = ThreadPoolExecutor(max_workers=concurrency)

    def close(self) -> None:
        self.pool.shutdown()
        for connection in self.connections:
            connection.close()

    def send(self, bodies: list[bytes]) -> tuple[Outcome, float, float]:
        """POST every body; clients take the next one when free, so they finish together.
        Returns the outcome, the wall time and this process's CPU time."""
        work: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        for body in bodies:
            work.put(body)
        started, cpu_started = time.perf_counter(), time.process_time()
        futures = [self.pool.submit(self._client, connection, work)
                   for connection in self.connections]
        outcome = Outcome()
        for future in futures:
            outcome.merge(future.result())
        return outcome, time.perf_counter() - started, time.process_time() - cpu_started

    def _client(self, connection: http.client.HTTPConnection,
                work: queue.SimpleQueue[bytes]) -> Outcome:
        outcome = Outcome()
        while True:
            try:
                body = work.get_nowait()
            except queue.Empty:
                return outcome
            started = time.perf_counter()
            try:
                status, answer = call(connection, "POST", "/fhir/ServiceRequest", body,
                                      self.headers)
            except (OSError, http.client.HTTPException) as error:
                connection.close()  # the next request reconnects
                status, answer = 0, type(error).__name__.encode()
            if status == 201:
                outcome.latencies.append(time.perf_counter() - started)
            else:
                outcome.failures[f"HTTP {status}" if status else answer.decode()] += 1
                outcome.first_failure = (outcome.first_failure
                                         or answer[:300].decode(errors="replace"))


@contextmanager
def connected_clients(port: int, concurrency: int) -> Iterator[Clients]:
    clients = Clients(port, concurrency, fetch_token(port))
    try:
        yield clients
    finally:
        clients.close()


# --- the run ----------------------------------------------------------------------------------

def measure(workdir: Path, warmup: list[bytes], bodies: list[bytes], concurrency: int,
            workers: int) -> Totals:
    """Warm both up, then alternate a baseline round and a gateway round."""
    gateway_url = f"sqlite:///{workdir / 'gateway.platform.db'}"
    baseline_url = f"sqlite:///{workdir / 'baseline.db'}"
    prepare_database(gateway_url)
    prepare_database(baseline_url)
    baseline = make_engine(baseline_url)  # WAL, synchronous=NORMAL, BEGIN IMMEDIATE: as served
    totals = Totals()
    try:
        with running_gateway(workdir, gateway_url, workers) as port, \
                connected_clients(port, concurrency) as clients:
            store_referrals(baseline, warmup)
            warm = clients.send(warmup)[0]
            totals.outcome.merge(Outcome(failures=warm.failures, first_failure=warm.first_failure))
            for chunk in split(bodies, min(ROUNDS, len(bodies))):
                totals.baseline_s += store_referrals(baseline, chunk)
                outcome, wall_s, cpu_s = clients.send(chunk)
                totals.gateway_s += wall_s
                totals.client_cpu_s += cpu_s
                totals.outcome.merge(outcome)
    finally:
        baseline.dispose()
    return totals


def percentile(values: list[float], pct: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def report(args: argparse.Namespace, totals: Totals) -> None:
    gateway_rps = len(totals.outcome.latencies) / totals.gateway_s
    baseline_rps = args.requests / totals.baseline_s
    ratio = gateway_rps / baseline_rps
    latencies_ms = [1000 * s for s in totals.outcome.latencies]
    p50, p95 = percentile(latencies_ms, 50), percentile(latencies_ms, 95)
    cores = os.cpu_count() or 1
    rounds = min(ROUNDS, args.requests)
    print(f"wijkgateway referrals on SQLite: {args.requests} referrals after {args.warmup} "
          f"warm-up, {args.concurrency} keep-alive clients, {args.workers} server process(es), "
          f"bearer auth on, "
          f"{rounds} alternating rounds")
    print(f"note: load generator and server share this machine's {cores} CPU core(s); the "
          f"load generator used {totals.client_cpu_s:.1f} CPU-s of {totals.gateway_s:.1f} s")
    print(f"{'':33}{'referrals/s':>12}{'p50 ms':>9}{'p95 ms':>9}")
    print(f"{'gateway (HTTP, uvicorn)':33}{gateway_rps:>12.1f}{p50:>9.1f}{p95:>9.1f}")
    print(f"{'baseline (' + BASELINE_MODE + ')':33}{baseline_rps:>12.1f}{'-':>9}{'-':>9}")
    verdict = "meets" if ratio >= TARGET_RATIO else "below"
    print(f"ratio gateway/baseline: {ratio:.3f} (target >= {TARGET_RATIO}: {verdict})")
    failed = totals.outcome.failures
    if failed:
        reasons = ", ".join(f"{n} x {why}" for why, n in failed.most_common())
        print(f"FAILED referrals: {reasons}; first answer: {totals.outcome.first_failure}")
    print(json.dumps({
        "benchmark": "referrals", "database": "sqlite", "requests": args.requests,
        "warmup": args.warmup, "concurrency": args.concurrency, "workers": args.workers,
        "rounds": rounds,
        "cpu_count": cores, "gateway_rps": round(gateway_rps, 1),
        "gateway_p50_ms": round(p50, 2), "gateway_p95_ms": round(p95, 2),
        "baseline_rps": round(baseline_rps, 1), "baseline_mode": BASELINE_MODE,
        "ratio": round(ratio, 3), "target_ratio": TARGET_RATIO,
        "client_cpu_s": round(totals.client_cpu_s, 2), "failures": failed.total(),
    }))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="measured referrals")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent HTTP clients")
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured referrals first")
    parser.add_argument("--workers", type=int, default=1, help="gateway worker processes")
    args = parse_with_smoke(parser, argv, SMOKE)
    if args.requests < 1 or args.concurrency < 1 or args.workers < 1 or args.warmup < 0:
        parser.error("--requests, --concurrency and --workers must be positive, "
                     "--warmup not negative")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    bodies = referral_bodies(args.warmup + args.requests)
    totals = run_in_workdir("wijkgateway-bench-", lambda w: measure(
        w, bodies[:args.warmup], bodies[args.warmup:], args.concurrency, args.workers),
        (BenchError,))
    if totals is None:
        return 2
    report(args, totals)
    return 1 if totals.outcome.failures else 0


if __name__ == "__main__":
    sys.exit(main())
