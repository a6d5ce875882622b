"""The Kubernetes workloads' commands, run as the pods run them: production settings from the
ConfigMap, keys made by the image's init-keys script, the migration Job as the schema's owner,
then each CronJob as the application role (which may not delete processing-log rows), on the
real PostgreSQL server of the test run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.deploy.files import REPO, pod_spec, resource
from tests.support.postgres import APP, OWNER, PostgresServer

pytestmark = pytest.mark.postgres
BIN = Path(sys.executable).parent


def _args(workload: str, kind: str = "CronJob") -> list[str]:
    (container,) = pod_spec(resource(kind, workload))["containers"]
    return container["args"]


@pytest.fixture
def pod_env(postgres: PostgresServer, tmp_path: Path) -> dict[str, str]:
    """The environment the ConfigMap and Secret give a pod, on a new database that only the
    owner has touched; the key paths moved from /etc/wijkgateway into tmp_path."""
    name = f"deploy_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(postgres.url(), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name} OWNER {OWNER}")
    engine.dispose()
    configmap = resource("ConfigMap", "wijkgateway")["data"]
    env = {key: value for key, value in os.environ.items() if not key.startswith("WIJKGATEWAY_")}
    env.update(configmap, PATH=f"{BIN}:{os.environ['PATH']}",
               WIJKGATEWAY_DATABASE_APP_ROLE=APP,
               WIJKGATEWAY_DATABASE_URL=postgres.url(name, user=APP),
               WIJKGATEWAY_SECRET_KEY="s" * 40, WIJKGATEWAY_PSEUDONYM_KEY="p" * 40,
               WIJKGATEWAY_DATA_DIR=str(tmp_path))
    for key in ("WIJKGATEWAY_SIGNING_KEY_PATH", "WIJKGATEWAY_AUDIT_SIGNING_KEY_PATH"):
        env[key] = str(tmp_path / configmap[key].removeprefix("/etc/wijkgateway/"))
        Path(env[key]).parent.mkdir()
    env["OWNER_URL"] = postgres.url(name, user=OWNER)
    return env


def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120,
                            cwd=REPO)
    assert result.returncode == 0, f"{command}: {result.stderr[-2000:]}"
    return result


def test_migration_worker_and_every_cronjob_succeed(pod_env: dict[str, str],
                                                     tmp_path: Path) -> None:
    _run([str(REPO / "deploy" / "init-keys.sh")], pod_env)
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
