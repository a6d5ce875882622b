"""``make run``'s loop (``wijkgateway demo run``): gateway, delivery worker and demo receiver in
one process. A real subprocess on a free port with its own database: a referral goes in, the
team completes its Task, and the receiver prints each verified delivery; Ctrl-C stops it all.
Also the start-up checks (busy port, a public base URL on another port) and ``/``."""

from __future__ import annotations

import datetime as dt
import json
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from standardwebhooks.webhooks import Webhook

from gateway.auth.clients import webhook_secret
from gateway.auth.token_exchange import exchange_form
from gateway.cli.demo_data import DEMO_ACTORS, demo_secret
from gateway.cli.demo_receiver import DemoReceiver, signature_ok
from gateway.platform.settings import DEVELOPMENT_SECRET_KEY
from gateway.platform.startup import database_location, local_base_url, port_mismatch
from tests.support.samples import service_request
from tests.support.server import environment_without_settings, free_port, stop

WIJKGATEWAY = str(Path(sys.executable).parent / "wijkgateway")
STARTUP_SECONDS = 60  # a deadline so a broken start fails the test instead of hanging it


class Process:
    """A ``wijkgateway`` subprocess whose stdout lines are read as they come; stderr is read
    alongside, so a chatty child never blocks on a full pipe."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.proc = subprocess.Popen([WIJKGATEWAY, *args], env=env, cwd=cwd, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.errors: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.error_reader = threading.Thread(target=self.errors.extend,
                                             args=(self.proc.stderr,), daemon=True)
        self.reader.start()
        self.error_reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:  # type: ignore[union-attr]
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, matches: Callable[[str], bool]) -> str:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            self.seen.append(line)
            if matches(line):
                return line
        raise AssertionError(f"line not seen; stdout ends {self.seen[-10:]}, "
                             f"stderr {''.join(self.errors)}")

    def interrupt(self) -> int:
        """Ctrl-C, then the exit code (the rest of stdout is read into ``seen``: the reader
        ends at the closed pipe, so nothing is waited for by the clock)."""
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout=STARTUP_SECONDS)
        self.reader.join(timeout=STARTUP_SECONDS)
        self.error_reader.join(timeout=STARTUP_SECONDS)
        while not self.lines.empty():
            self.seen.append(self.lines.get_nowait())
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def demo_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {**environment_without_settings(), "WIJKGATEWAY_ENVIRONMENT": "development",
            "WIJKGATEWAY_DATA_DIR": str(tmp_path), **extra}


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port another process listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def token(base: str, client_id: str) -> str:
    response = httpx.post(f"{base}/oauth/token", auth=(client_id, demo_secret(client_id)),
                          data=exchange_form(client_id, demo_secret(client_id),
                                             DEMO_ACTORS[client_id], f"{base}/oauth/token"))
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def move_task(base: str, bearer: str, task_id: str, version: int, status: str) -> None:
    response = httpx.patch(f"{base}/fhir/Task/{task_id}", headers={
        "Authorization": f"Bearer {bearer}", "If-Match": f'W/"{version}"',
        "Content-Type": "application/json-patch+json"},
        json=[{"op": "replace", "path": "/status", "value": status}])
    assert response.status_code == 200, response.text


def test_make_run_shows_the_whole_loop(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    demo = Process(["demo", "run", "--port", str(port)], demo_env(tmp_path), tmp_path)
    try:
        started = json.loads(demo.wait_for(lambda line: '"event":"gateway_started"' in line))
        assert (started["url"], started["database"]) == (base, str(tmp_path / "wijkgateway.db"))
        banner = [line for line in demo.seen if not line.startswith("{")]
        assert [re.sub(r":\d+ ", ":PORT ", line) for line in banner
                if line.startswith("demo receiver:")] == [
            "demo receiver:  http://127.0.0.1:PORT stands in for demo-huisarts (Task) and "
            "demo-wijkteam-noord (ServiceRequest): one line per delivery, 'webhook -> ...'"]
        assert f"API:           {base}" in banner
        assert f"API docs:      {base}/docs" in banner
        assert f"console:       {base}/console" in banner
        assert "console login:  create an account first: .venv/bin/wijkgateway officers add " \
               "NAME (the demo has none)" in banner
        assert f"metrics:       {base}/metrics" in banner
        assert f"database:      {tmp_path / 'wijkgateway.db'}" in banner
        assert f"other terminals (demo subject-token, audit verify): export " \
               f"WIJKGATEWAY_PUBLIC_BASE_URL={base}" in banner
        assert "  demo-huisarts: secret demo-huisarts-secret, webhook secret " \
               f"{webhook_secret(DEVELOPMENT_SECRET_KEY, 'demo-huisarts')} (derived from " \
               "WIJKGATEWAY_SECRET_KEY)" in banner
        assert sum(line.startswith("WARNING: development keys in use") for line in banner) == 1
        assert demo.wait_for(lambda line: "development_keys_in_use" in line).startswith(
            '{"event":"development_keys_in_use","level":"warning"')

        gp = {"Authorization": f"Bearer {token(base, 'demo-huisarts')}",
              "Content-Type": "application/fhir+json"}
        created = httpx.post(f"{base}/fhir/ServiceRequest", headers=gp,
                             json=service_request(consent="self"))
        assert created.status_code == 201, created.text
        assert created.headers["location"].startswith(f"{base}/fhir/ServiceRequest/")
        referral = created.json()["id"]
        found = httpx.get(f"{base}/fhir/Task", params={"focus": f"ServiceRequest/{referral}"},
                          headers=gp).json()
        task = found["entry"][0]["resource"]["id"]
        team = token(base, "demo-wijkteam-noord")
        for version, status in enumerate(("accepted", "in-progress", "completed"), start=1):
            move_task(base, team, task, version, status)
        demo.wait_for(lambda line: line.startswith("webhook -> demo-huisarts: "
                                                   "nl.wijkgateway.referral.completed"))
        assert [line for line in demo.seen if line.startswith("webhook -> ")] == [
            f"webhook -> demo-wijkteam-noord: nl.wijkgateway.referral.received "
            f"ServiceRequest/{referral} status=active signature ok (msg_1)",
            f"webhook -> demo-huisarts: nl.wijkgateway.referral.accepted Task/{task} "
            f"status=accepted signature ok (msg_2)",
            f"webhook -> demo-huisarts: nl.wijkgateway.referral.in-progress Task/{task} "
            f"status=in-progress signature ok (msg_3)",
            f"webhook -> demo-huisarts: nl.wijkgateway.referral.completed Task/{task} "
            f"status=completed signature ok (msg_4)"]

        assert demo.interrupt() == 0
        assert demo.seen[-1] == "stopped: gateway, worker and demo receiver"
        assert '"event":"worker_stopped"' in demo.seen[-2]
    finally:
        demo.kill()


def test_a_second_run_points_the_demo_subscriptions_at_the_new_receiver(tmp_path: Path) -> None:
    """The receiver's port is new each run: the same two Subscriptions follow it (updated,
    not duplicated), so a referral after a restart is still heard."""
    for run in (1, 2):
        port = free_port()
        demo = Process(["demo", "run", "--port", str(port)], demo_env(tmp_path), tmp_path)
        try:
            demo.wait_for(lambda line: '"event":"gateway_started"' in line)
            events = [re.search(r'"client_id":"([^"]+)".*"event":"(subscription_\w+)"', line)
                      for line in demo.seen if '"event":"subscription_' in line]
            verb = "subscription_created" if run == 1 else "subscription_updated"
            assert [m.groups() for m in events if m] == [("demo-huisarts", verb),
                                                          ("demo-wijkteam-noord", verb)]
            assert demo.interrupt() == 0
        finally:
            demo.kill()


@pytest.mark.parametrize("command", [["demo", "run"], ["serve"]])
def test_a_busy_port_is_one_line_before_start(tmp_path: Path, busy_port: int,
                                              command: list[str]) -> None:
    env = demo_env(tmp_path)
    subprocess.run([WIJKGATEWAY, "db", "upgrade"], env=env, cwd=tmp_path, check=True,
                   capture_output=True)
    done = subprocess.run([WIJKGATEWAY, *command, "--port", str(busy_port)], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=STARTUP_SECONDS)
    assert (done.returncode, done.stdout, done.stderr) == (
        2, "", f"error: port {busy_port} on 127.0.0.1 is in use; stop what runs there or pick "
               f"another port (--port, or make run PORT=...)\n")


def test_serve_warns_once_when_the_public_base_url_names_another_port(tmp_path: Path) -> None:
    port = free_port()
    env = demo_env(tmp_path, WIJKGATEWAY_PUBLIC_BASE_URL="http://127.0.0.1:8000")
    subprocess.run([WIJKGATEWAY, "db", "upgrade"], env=env, cwd=tmp_path, check=True,
                   capture_output=True)
    served = Process(["serve", "--port", str(port)], env, tmp_path)
    try:
        served.wait_for(lambda line: '"event":"gateway_started"' in line)
        assert served.interrupt() == 0
        assert "".join(served.errors) == (
            f"warning: WIJKGATEWAY_PUBLIC_BASE_URL=http://127.0.0.1:8000 names port 8000, but "
            f"the gateway serves on port {port}: tokens, Location and fullUrl will point at "
            f"port 8000\n")
    finally:
        served.kill()


class TestStartupFacts:
    def test_port_mismatch(self) -> None:
        assert port_mismatch("http://127.0.0.1:8000", 8000) is None
        assert port_mismatch("https://gw.example.nl", 8000) is None  # behind a proxy on 443
        assert port_mismatch("http://localhost:8000", 18433) == (
            "WIJKGATEWAY_PUBLIC_BASE_URL=http://localhost:8000 names port 8000, but the gateway "
            "serves on port 18433: tokens, Location and fullUrl will point at port 8000")

    def test_local_base_url(self) -> None:
        assert local_base_url("127.0.0.1", 18433) == "http://127.0.0.1:18433"
        assert local_base_url("0.0.0.0", 8000) == "http://127.0.0.1:8000"  # noqa: S104
        assert local_base_url("::1", 8000) == "http://[::1]:8000"

    def test_database_location(self, tmp_path: Path) -> None:
        assert database_location(f"sqlite:///{tmp_path}/a/../g.db") == str(tmp_path / "g.db")
        assert database_location("sqlite:///:memory:") == "(in memory)"  # was cwd/:memory:
        assert database_location("sqlite://") == "(in memory)"
        assert database_location("postgresql+psycopg://wg:s3cret@db:5432/wg") == \
            "postgresql+psycopg://wg:***@db:5432/wg"


class TestDemoReceiver:
    """Signed with the Standard Webhooks reference library, not with the gateway's code."""

    @pytest.fixture
    def receiver(self) -> Iterator[tuple[DemoReceiver, list[str]]]:
        printed: list[str] = []
        receiver = DemoReceiver({"demo-huisarts": webhook_secret("k" * 40, "demo-huisarts")},
                                printed.append).start()
        yield receiver, printed
        receiver.stop()

    def send(self, url: str, body: bytes, secret: str) -> httpx.Response:
        now = time.time()
        signature = Webhook(secret).sign("msg_7", dt.datetime.fromtimestamp(now, dt.UTC),
                                         body.decode())
        return httpx.put(url, content=body, headers={
            "webhook-id": "msg_7", "webhook-timestamp": str(int(now)),
            "webhook-signature": signature,
            "X-Wijkgateway-Event": "nl.wijkgateway.referral.accepted"})

    BODY = b'{"resourceType": "Task", "id": "t1", "status": "accepted", "note": [{"text": "x"}]}'

    @pytest.mark.parametrize(("signer", "status", "verdict"), [
        ("k" * 40, 204, "signature ok"), ("o" * 40, 401, "signature REJECTED")],
        ids=["the client's secret", "another secret"])
    def test_each_delivery_is_one_line_with_its_verdict(
            self, receiver: tuple[DemoReceiver, list[str]], signer: str, status: int,
            verdict: str) -> None:
        server, printed = receiver
        secret = webhook_secret(signer, "demo-huisarts")
        response = self.send(f"{server.url}/demo-huisarts/Task/t1", self.BODY, secret)
        assert response.status_code == status
        assert printed == ["webhook -> demo-huisarts: nl.wijkgateway.referral.accepted Task/t1 "
                           f"status=accepted {verdict} (msg_7)"]

    def test_a_stale_timestamp_is_refused(self) -> None:
        """Standard Webhooks' replay window: five minutes either way, not one second more."""
        secret = webhook_secret("k" * 40, "demo-huisarts")
        signed = 1_700_000_000
        headers = {"webhook-id": "msg_7", "webhook-timestamp": str(signed),
                   "webhook-signature": Webhook(secret).sign(
                       "msg_7", dt.datetime.fromtimestamp(signed, dt.UTC), self.BODY.decode())}
        assert [signature_ok(secret, headers, self.BODY, signed + offset)
                for offset in (-301, -300, 0, 300, 301)] == [False, True, True, True, False]

    def test_an_unknown_client_is_404(self, receiver: tuple[DemoReceiver, list[str]]) -> None:
        server, printed = receiver
        secret = webhook_secret("k" * 40, "demo-huisarts")
        assert self.send(f"{server.url}/someone/Task/t1", self.BODY, secret).status_code == 404
        assert printed == []


def test_home_page_links_to_pages_that_answer(client: TestClient) -> None:
    response = client.get("/")
    assert (response.status_code, response.headers["content-type"]) == (
        200, "text/html; charset=utf-8")
    links = re.findall(r'href="([^"]+)"', response.text)
    assert links == ["/docs", "/fhir/metadata", "/console", "/metrics", "/healthz", "/readyz"]
    assert {link: client.get(link, follow_redirects=False).status_code for link in links} == {
        "/docs": 200, "/fhir/metadata": 200, "/console": 303, "/metrics": 200, "/healthz": 200,
        "/readyz": 200}


def test_make_run_passes_port_to_the_loop() -> None:
    """``make run PORT=...`` (dry run: nothing installed or started)."""
    root = Path(__file__).resolve().parents[1]
    commands = [subprocess.run(["make", "-n", "-C", str(root), "--no-print-directory", "run",
                                *args], capture_output=True, text=True, check=True
                               ).stdout.splitlines()[-1] for args in ([], ["PORT=18433"])]
    assert commands == [".venv/bin/wijkgateway demo run --host 127.0.0.1 --port 8000",
                        ".venv/bin/wijkgateway demo run --host 127.0.0.1 --port 18433"]


def test_a_receiver_the_settings_refuse_is_one_line(tmp_path: Path) -> None:
    done = subprocess.run([WIJKGATEWAY, "demo", "run", "--port", str(free_port())],
                          env=demo_env(tmp_path, WIJKGATEWAY_ALLOW_HTTP_WEBHOOKS="false"),
                          cwd=tmp_path, capture_output=True, text=True, timeout=STARTUP_SECONDS)
    assert done.returncode == 2
    assert re.fullmatch(r"error: the demo receiver at http://127\.0\.0\.1:\d+ cannot be "
                        r"subscribed: endpoint must be an absolute https URL\n", done.stderr)


def test_demo_run_is_for_development_only(tmp_path: Path) -> None:
    env = demo_env(tmp_path, WIJKGATEWAY_ENVIRONMENT="test", WIJKGATEWAY_SECRET_KEY="s" * 40,
                   WIJKGATEWAY_PSEUDONYM_KEY="p" * 40)
    done = subprocess.run([WIJKGATEWAY, "demo", "run", "--port", str(free_port())], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=STARTUP_SECONDS)
    assert (done.returncode, done.stdout, done.stderr) == (
        2, "", "error: demo run is for development only (WIJKGATEWAY_ENVIRONMENT=development)\n")


def test_a_server_that_ignores_sigterm_is_killed_not_left_behind() -> None:
    """tests/support/server.stop, which the docs and deploy tests end their servers with."""
    stubborn = subprocess.Popen([sys.executable, "-c", "import signal, sys, time; "
                                 "signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                                 "print('ready', flush=True); time.sleep(120)"],
                                stdout=subprocess.PIPE, text=True)
    assert stubborn.stdout.readline() == "ready\n"  # type: ignore[union-attr]
    with pytest.raises(subprocess.TimeoutExpired):
        stop(stubborn, seconds=0.5)
    assert stubborn.returncode == -signal.SIGKILL
