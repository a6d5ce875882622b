"""Referral latency while the processing log's CSV export streams, next to the same latency
without it, on one served gateway; with the export's own rows per second and the server's
peak memory.

Setup: a fresh SQLite database (the gateway's migrations and demo clients) whose processing
log is filled with ``--entries`` entries through the gateway's own write path (``record``,
in transactions of 5,000), then ``wijkgateway serve`` in a subprocess.

Rounds, after a warm-up: first ``--requests`` referral POSTs from ``--concurrency`` keep-alive
clients with nothing else running ("alone"); then one full, unfiltered export of the log
(``GET /audit/entries.csv`` by the privacy officer's client, read as fast as it comes) while
the same clients keep POSTing referrals until the export has ended ("during"). p95 is taken
over each phase's requests of all rounds; the ratio during/alone is what the project tracks
(target <= 2). The export's own speed is measured alone too (one export before the rounds,
nothing else running). Memory: the server's resident set before the first export and its
peak over the run (``VmHWM``), on Linux. This is a measurement, not a test: it exits 0 whatever the
ratio, 1 when a referral failed or an export came back short, 2 when it cannot run.

    python bench/export.py [--entries 150000] [--requests 400] [--rounds 3]
                           [--concurrency 8] [--warmup 100] [--smoke]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from common import parse_with_smoke, run_in_workdir
from referrals import (
    HTTP_TIMEOUT_S,
    BenchError,
    Clients,
    Outcome,
    connected_clients,
    fetch_token,
    gateway_process,
    percentile,
    prepare_database,
    referral_bodies,
    server_env,
    valid_bsns,
)

from gateway.api.processing_activities import load_register
from gateway.audit.log import audit_context, audit_sessions, record, subject_identifier
from gateway.platform.db.engine import make_engine
from gateway.platform.settings import Settings

TARGET_RATIO = 2.0  # p95 during an export over p95 alone, at most
OFFICER_CLIENT = "demo-privacy-officer"
FILL_BATCH = 5000
CHUNK_PER_CLIENT = 4  # referrals per client between checks whether the export has ended
SMOKE = {"entries": 3000, "requests": 40, "rounds": 1, "concurrency": 2, "warmup": 10}


@dataclass
class Export:
    """One export as the officer's system received it."""

    rows: int = 0
    bytes: int = 0
    seconds: float = 0.0
    status: int = 0


@dataclass
class Phases:
    alone: Outcome = field(default_factory=Outcome)
    during: Outcome = field(default_factory=Outcome)
    exports: list[Export] = field(default_factory=list)  # while referrals run
    solo: Export = field(default_factory=Export)  # the first export, with nothing else running


def fill_log(settings: Settings, entries: int) -> None:
    """Referral-shaped entries, as the gateway writes them: a GP's write, then the
    disclosure to the team, about one of a thousand residents."""
    engine = make_engine(settings.database_url)
    sessions = audit_sessions(engine, audit_context(settings, load_register(
        settings.processing_activities_path)))
    subjects = [subject_identifier(bsn) for bsn in valid_bsns(1000)]
    try:
        for start in range(0, entries, FILL_BATCH):
            with sessions.begin() as session:
                for n in range(start, min(entries, start + FILL_BATCH)):
                    disclosure = n % 2 == 1
                    record(session, kind="disclosure" if disclosure else "write",
                           action="delivery.permitted" if disclosure else "referral.received",
                           activity_id="gp-referral-to-wijkteam", actor_id="demo-huisarts",
                           recipient="wijkteam-noord", recipient_role="wijkteam",
                           subject=subjects[n % len(subjects)],
                           categories=["identification", "referral-reason"],
                           details={"referral": f"bench-{n // 2:07d}"})
    finally:
        engine.dispose()


def download(port: int, token: str) -> Export:
    """The whole export, read as it comes; rows counted by line ends."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=HTTP_TIMEOUT_S)
    started = time.perf_counter()
    try:
        connection.request("GET", "/audit/entries.csv",
                           headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        result = Export(status=response.status)
        while chunk := response.read(1 << 16):
            result.bytes += len(chunk)
            result.rows += chunk.count(b"\n")
    finally:
        connection.close()
    result.rows -= 1  # the header
    result.seconds = time.perf_counter() - started
    return result


def memory_kib(pid: int, field_name: str) -> int | None:
    """A ``/proc/PID/status`` figure in KiB (VmRSS now, VmHWM the peak); None off Linux."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def during_export(clients: Clients, port: int, token: str, bodies: list[bytes],
                  concurrency: int) -> tuple[Outcome, Export]:
    """POST referrals until the export has ended; at least one chunk."""
    outcome = Outcome()
    chunk = concurrency * CHUNK_PER_CLIENT
    with ThreadPoolExecutor(1) as pool:
        exporting = pool.submit(download, port, token)
        while bodies and (not exporting.done() or not outcome.latencies):
            sent, bodies[:] = bodies[:chunk], bodies[chunk:]
            outcome.merge(clients.send(sent)[0])
        return outcome, exporting.result()


def measure(workdir: Path, args: argparse.Namespace) -> tuple[Phases, int | None, int | None]:
    url = f"sqlite:///{workdir / 'gateway.platform.db'}"
    os.environ.update(server_env(workdir, url, 0))  # the fill uses the server's settings
    os.environ["WIJKGATEWAY_AUDIT_ORIGIN"] = "bench.invalid/processing-log"
    prepare_database(url)
    fill_log(Settings(), args.entries)
    # enough bodies for every phase: "during" sends until its export ends
    bodies = referral_bodies(args.warmup + args.rounds * args.requests * 20 + 1000)
    phases = Phases()
    with gateway_process(workdir, url, 1) as (port, server), \
            connected_clients(port, args.concurrency) as clients:
        officer = fetch_token(port, OFFICER_CLIENT)
        warm = clients.send(bodies[:args.warmup])[0]
        phases.alone.failures += warm.failures
        del bodies[:args.warmup]
        rss_before = memory_kib(server.pid, "VmRSS")
        phases.solo = download(port, officer)
        for _ in range(args.rounds):
            phases.alone.merge(clients.send(bodies[:args.requests])[0])
            del bodies[:args.requests]
            outcome, exported = during_export(clients, port, officer, bodies, args.concurrency)
            phases.during.merge(outcome)
            phases.exports.append(exported)
        peak = memory_kib(server.pid, "VmHWM")
    return phases, rss_before, peak


def report(args: argparse.Namespace, phases: Phases, rss_before: int | None,
           peak: int | None) -> bool:
    """Prints the figures; False when a referral failed or an export came back short."""
    alone_ms = [1000 * s for s in phases.alone.latencies]
    during_ms = [1000 * s for s in phases.during.latencies]
    p95_alone, p95_during = percentile(alone_ms, 95), percentile(during_ms, 95)
    ratio = p95_during / p95_alone if p95_alone else 0.0
    rows = sum(e.rows for e in phases.exports)
    seconds = sum(e.seconds for e in phases.exports)
    rows_per_s = rows / seconds if seconds else 0.0
    short = [e for e in (phases.solo, *phases.exports)
             if e.status != 200 or e.rows < args.entries]
    solo_rows_per_s = phases.solo.rows / phases.solo.seconds if phases.solo.seconds else 0.0
    print(f"wijkgateway CSV export on SQLite: {args.entries} log entries, {args.rounds} "
          f"round(s), {args.concurrency} keep-alive referral clients, 1 server process")
    print(f"{'':34}{'referrals':>10}{'p50 ms':>9}{'p95 ms':>9}")
    for name, values in (("alone", alone_ms), ("during an export", during_ms)):
        print(f"{name:34}{len(values):>10}{percentile(values, 50):>9.1f}"
              f"{percentile(values, 95):>9.1f}")
    print(f"export alone: {solo_rows_per_s:,.0f} rows/s ({phases.solo.rows} rows, "
          f"{phases.solo.bytes / 2**20:.1f} MiB); during referrals: {rows_per_s:,.0f} rows/s "
          f"({rows} rows in {seconds:.1f} s)")
    if rss_before is not None and peak is not None:
        print(f"server memory: {rss_before / 1024:.0f} MiB resident before the first export, "
              f"peak {peak / 1024:.0f} MiB")
    verdict = "meets" if ratio <= TARGET_RATIO else "above"
    print(f"ratio p95 during/alone: {ratio:.2f} (target <= {TARGET_RATIO}: {verdict})")
    failures = phases.alone.failures + phases.during.failures
    if failures:
        print(f"FAILED referrals: {dict(failures)}; first answer: "
              f"{phases.alone.first_failure or phases.during.first_failure}")
    if short:
        print(f"SHORT exports: {[(e.status, e.rows) for e in short]}")
    print(json.dumps({
        "benchmark": "export", "database": "sqlite", "entries": args.entries,
        "rounds": args.rounds, "requests": args.requests, "concurrency": args.concurrency,
        "referrals_alone": len(alone_ms), "referrals_during": len(during_ms),
        "p95_alone_ms": round(p95_alone, 2), "p95_during_ms": round(p95_during, 2),
        "ratio": round(ratio, 3), "target_ratio": TARGET_RATIO,
        "export_rows": rows, "export_rows_per_s": round(rows_per_s, 1),
        "export_alone_rows_per_s": round(solo_rows_per_s, 1),
        "server_rss_before_kib": rss_before, "server_peak_rss_kib": peak,
        "failures": failures.total(), "short_exports": len(short),
    }))
    return not failures and not short


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=150_000, help="log entries to export")
    parser.add_argument("--requests", type=int, default=400,
                        help="referrals per round with nothing else running")
    parser.add_argument("--rounds", type=int, default=3, help="alone/during rounds")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent HTTP clients")
    parser.add_argument("--warmup", type=int, default=100, help="unmeasured referrals first")
    args = parse_with_smoke(parser, argv, SMOKE)
    if min(args.entries, args.requests, args.rounds, args.concurrency) < 1 or args.warmup < 0:
        parser.error("--entries, --requests, --rounds and --concurrency must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    measured = run_in_workdir("wijkgateway-bench-", lambda w: measure(w, args), (BenchError,))
    if measured is None:
        return 2
    phases, rss_before, peak = measured
    return 0 if report(args, phases, rss_before, peak) else 1


if __name__ == "__main__":
    sys.exit(main())
