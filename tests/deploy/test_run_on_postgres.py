"""deploy/'s commands run as its containers run them, on the real PostgreSQL server of the test
run, with the venv's `wijkgateway` in place of the image's:

- Kubernetes: production settings from the ConfigMap, keys made by the image's init-keys
  script, the migration Job as the schema's owner, then the worker and each CronJob as the
  application role (which may not delete processing-log rows);
- the development compose file: its services in order with their environment, the API
  serving, the image's HEALTHCHECK command passing, and a demo client getting a token."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.deploy.files import (
    DEPLOY,
    REPO,
    compose,
    dockerfile,
    image_env,
    interpolate,
    pod_spec,
    resource,
    workloads,
)
from tests.support.postgres import APP, OWNER, PostgresServer
from tests.support.server import environment_without_settings, free_port, stop

pytestmark = pytest.mark.postgres
BIN = Path(sys.executable).parent


def _args(workload: str, kind: str = "CronJob") -> list[str]:
    (container,) = pod_spec(resource(kind, workload))["containers"]
    return container["args"]


@pytest.fixture
def database(postgres: PostgresServer) -> str:
    """A new database that only its owner has touched, as after PostgreSQL's first start."""
    return postgres.create_database("deploy_")


def _base_env(tmp_path: Path, settings: dict[str, str]) -> dict[str, str]:
    """This process's environment without WIJKGATEWAY_* variables, plus the image's key paths
    moved from /etc/wijkgateway into tmp_path (their folders made, as the image does), plus
    ``settings``."""
    env = environment_without_settings()
    env.update(settings, PATH=f"{BIN}:{os.environ['PATH']}", WIJKGATEWAY_DATA_DIR=str(tmp_path))
    for key in ("WIJKGATEWAY_SIGNING_KEY_PATH", "WIJKGATEWAY_AUDIT_SIGNING_KEY_PATH"):
        env[key] = str(tmp_path / image_env()[key].removeprefix("/etc/wijkgateway/"))
        Path(env[key]).parent.mkdir(exist_ok=True)
    return env


@pytest.fixture
def pod_env(postgres: PostgresServer, database: str, tmp_path: Path) -> dict[str, str]:
    """The environment the ConfigMap and Secret give a pod."""
    env = _base_env(tmp_path, resource("ConfigMap", "wijkgateway")["data"])
    env.update(WIJKGATEWAY_DATABASE_APP_ROLE=APP,
               WIJKGATEWAY_DATABASE_URL=postgres.url(database, user=APP),
               WIJKGATEWAY_SECRET_KEY="s" * 40, WIJKGATEWAY_PSEUDONYM_KEY="p" * 40,
               OWNER_URL=postgres.url(database, user=OWNER))
    return env


def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120,
                            cwd=REPO)
    assert result.returncode == 0, f"{command}: {result.stderr[-2000:]}"
    return result


def test_migration_worker_and_every_cronjob_succeed(pod_env: dict[str, str],
                                                     tmp_path: Path) -> None:
    _run([str(REPO / "deploy" / "init-keys.sh")], pod_env)
    # none of these pods mounts the token signing key (only the api does): they run without it
    assert {w["metadata"]["name"] for w in workloads() if any(
        v["name"] == "signing-key" for v in pod_spec(w).get("volumes", []))} == {"wijkgateway-api"}
    Path(pod_env["WIJKGATEWAY_SIGNING_KEY_PATH"]).unlink()
    _run(["wijkgateway", *_args("wijkgateway-migrate", "Job")],
         {**pod_env, "WIJKGATEWAY_DATABASE_URL": pod_env["OWNER_URL"]})
    _run(["wijkgateway", "clients", "add", "Huisartsenpraktijk", "--scope",
          "system/ServiceRequest.write"], pod_env)  # something in the log

    worker = _run(["wijkgateway", *_args("wijkgateway-worker", "Deployment"), "--once"], pod_env)
    assert json.loads(worker.stdout.splitlines()[-1]) == {"attempted": 0}

    checkpoint = _args("wijkgateway-audit-checkpoint")
    assert checkpoint[:3] == ["audit", "checkpoint", "--publish"]
    witness = tmp_path / "witness" / "checkpoint"
    witness.parent.mkdir()
    printed = _run(["wijkgateway", *checkpoint[:3], str(witness)], pod_env).stdout
    assert witness.read_text() == printed
    assert printed.startswith("wijkgateway.example.nl/processing-log\n")

    verified = json.loads(_run(["wijkgateway", *_args("wijkgateway-audit-verify")],
                               pod_env).stdout)
    assert verified["ok"] is True
    assert verified["database_guard_problem"] is None

    purged = json.loads(_run(["wijkgateway", *_args("wijkgateway-audit-purge")],
                             pod_env).stdout.splitlines()[-1])
    assert (purged["entries"], purged["through_seq"]) == (0, None)  # nothing has expired yet


def _compose_env(service: dict, postgres: PostgresServer, database: str,
                 variables: dict[str, str]) -> dict[str, str]:
    """A dev compose service's environment, ${VAR:-default} filled in from ``variables``, its
    database URL pointed at the test server (which trusts any password)."""
    env = {}
    for key, value in service.get("environment", {}).items():
        env[key] = re.sub(r"@postgres:5432/wijkgateway$",
                          f"@127.0.0.1:{postgres.port}/{database}",
                          interpolate(str(value), variables))
    return env


def test_the_development_compose_file_serves_the_demo(postgres: PostgresServer, database: str,
                                                     tmp_path: Path) -> None:
    services = compose(DEPLOY / "docker-compose.dev.yml")["services"]
    port = free_port()
    envs = {name: _base_env(tmp_path, _compose_env(services[name], postgres, database,
                                                   {"WIJKGATEWAY_PORT": str(port)}))
            for name in ("keys", "migrate", "demo", "api", "worker")}
    assert envs["migrate"]["WIJKGATEWAY_DATABASE_URL"].startswith("postgresql+psycopg://wijkgateway:")
    # the dev server's roles are the test server's: the owner and the application role
    for env in envs.values():
        env["WIJKGATEWAY_DATABASE_URL"] = env["WIJKGATEWAY_DATABASE_URL"].replace(
            "//wijkgateway:", f"//{OWNER}:").replace("//wijkgateway_app:", f"//{APP}:")
    envs["migrate"]["WIJKGATEWAY_DATABASE_APP_ROLE"] = APP

    assert services["keys"]["entrypoint"] == ["wijkgateway-init-keys"]  # deploy/init-keys.sh
    _run([str(REPO / "deploy" / "init-keys.sh")], envs["keys"])
    _run(["wijkgateway", *services["migrate"]["command"]], envs["migrate"])
    demo = _run(["wijkgateway", *services["demo"]["command"]], envs["demo"]).stdout
    secret = re.search(r"demo client demo-huisarts: secret (\S+),", demo).group(1)
    _run(["wijkgateway", *services["worker"]["command"], "--once"], envs["worker"])

    variables = {"WIJKGATEWAY_PORT": str(port)}
    serve = [interpolate(arg, variables) for arg in services["api"]["command"]]
    assert serve == ["serve", "--host", "0.0.0.0", "--port", str(port)]  # noqa: S104
    api = subprocess.Popen(["wijkgateway", *serve[:2], "127.0.0.1", *serve[3:]],
                           env=envs["api"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    (image_probe,) = [i.exec_form() for i in dockerfile() if i.keyword == "HEALTHCHECK"]
    probes = [[interpolate(arg, variables) for arg in services["api"]["healthcheck"]["test"][1:]],
              [arg.replace(":8000/", f":{port}/") for arg in image_probe]]
    assert probes[0] == probes[1]  # the development file's is the image's, on its port
    probe = probes[0]
    try:
        deadline = time.monotonic() + 60
        while subprocess.run(probe, capture_output=True, timeout=30).returncode != 0:
            assert api.poll() is None and time.monotonic() < deadline, "the API did not start"
            time.sleep(0.2)
        base = envs["api"]["WIJKGATEWAY_PUBLIC_BASE_URL"]
        assert base == f"http://127.0.0.1:{port}"
        token = httpx.post(f"{base}/oauth/token", data={"grant_type": "client_credentials"},
                           auth=("demo-huisarts", secret), timeout=30)
        assert token.status_code == 200, token.text
        assert token.json()["token_type"] == "Bearer"
    finally:
        stop(api)
    assert subprocess.run(probe, capture_output=True, timeout=30).returncode == 1  # unhealthy
