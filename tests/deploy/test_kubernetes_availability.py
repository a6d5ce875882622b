"""deploy/kubernetes/: replicas that stay available. Each Deployment has an autoscaler on CPU
(its containers request CPU, it leaves the replica count to the autoscaler), a disruption
budget over exactly its pods, rollouts that start a new pod before stopping an old one, probes
on routes the API serves, a worker probe that reads the heartbeat the worker writes, replicas
spread over nodes, every pod hardened, and PostgreSQL connections within the budget the docs
give."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from gateway.api.health import router as health_router
from gateway.delivery.heartbeat import heartbeat
from gateway.platform.db.engine import make_engine
from tests.deploy.files import (
    REPO,
    kind_name,
    of_kind,
    pod_labels,
    pod_spec,
    resource,
    selects,
    workloads,
)

DEPLOYMENTS = [doc for doc in workloads() if doc["kind"] == "Deployment"]


def _autoscaler(deployment: dict[str, Any]) -> dict[str, Any]:
    (hpa,) = [h for h in of_kind("HorizontalPodAutoscaler")
              if h["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                                 "name": deployment["metadata"]["name"]}]
    return hpa


def _budget(deployment: dict[str, Any]) -> dict[str, Any]:
    (pdb,) = [p for p in of_kind("PodDisruptionBudget")
              if selects(p["spec"]["selector"], pod_labels(deployment))]
    return pdb


def _cpu_millicores(quantity: str) -> int:
    if quantity.endswith("m"):
        return int(quantity.removesuffix("m"))
    return int(float(quantity) * 1000)


def test_every_autoscaler_scales_a_deployment_of_these_manifests() -> None:
    targets = sorted(hpa["spec"]["scaleTargetRef"]["name"]
                     for hpa in of_kind("HorizontalPodAutoscaler"))
    assert targets == sorted(d["metadata"]["name"] for d in DEPLOYMENTS)


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=kind_name)
def test_the_autoscaler_scales_on_cpu_which_every_container_requests(deployment: dict) -> None:
    """A CPU utilization target is a share of the request: a container without one leaves the
    autoscaler with nothing to compute."""
    hpa = _autoscaler(deployment)
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"] if m["type"] == "Resource"] \
        == ["cpu"]
    for container in pod_spec(deployment)["containers"]:
        assert _cpu_millicores(container["resources"]["requests"]["cpu"]) > 0, container["name"]


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=kind_name)
def test_an_autoscaled_deployment_leaves_the_replica_count_to_its_autoscaler(
        deployment: dict) -> None:
    """With `replicas` in the file, every `kubectl apply` would reset what the autoscaler chose."""
    assert "replicas" not in deployment["spec"]
    hpa = _autoscaler(deployment)["spec"]
    assert 2 <= hpa["minReplicas"] <= hpa["maxReplicas"]


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=kind_name)
def test_a_rollout_starts_a_new_pod_before_it_stops_an_old_one(deployment: dict) -> None:
    strategy = deployment["spec"]["strategy"]
    assert strategy["type"] == "RollingUpdate"
    assert strategy["rollingUpdate"]["maxUnavailable"] == 0
    assert strategy["rollingUpdate"]["maxSurge"] >= 1


def test_each_budget_covers_the_pods_of_exactly_one_deployment() -> None:
    """A selector that matched nothing would protect nothing; one that also matched a Job's
    pods would count them as available."""
    for pdb in of_kind("PodDisruptionBudget"):
        covered = [kind_name(w) for w in workloads()
                   if selects(pdb["spec"]["selector"], pod_labels(w))]
        assert covered == [f"Deployment/{pdb['metadata']['name']}"]


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=kind_name)
def test_a_drain_leaves_a_pod_of_each_deployment_running(deployment: dict) -> None:
    """At the autoscaler's minimum, the budget still lets an eviction through (a drain is never
    blocked) and keeps at least one pod."""
    allowed = _budget(deployment)["spec"]["maxUnavailable"]
    assert 1 <= allowed < _autoscaler(deployment)["spec"]["minReplicas"]


def _container(name: str) -> dict[str, Any]:
    (container,) = pod_spec(resource("Deployment", name))["containers"]
    return container


def test_the_api_probes_ask_routes_it_serves_on_its_own_port() -> None:
    api = _container("wijkgateway-api")
    served = {route.path for route in health_router.routes}
    ports = {port["name"] for port in api["ports"]}
    probes = {kind: api[kind]["httpGet"] for kind in ("startupProbe", "readinessProbe",
                                                       "livenessProbe")}
    assert {kind: probe["path"] for kind, probe in probes.items()} == {
        "startupProbe": "/healthz", "readinessProbe": "/readyz", "livenessProbe": "/healthz"}
    assert {probe["path"] for probe in probes.values()} <= served
    assert {probe["port"] for probe in probes.values()} <= ports


def test_the_api_stops_taking_requests_before_it_is_stopped() -> None:
    """The preStop pause must end well within the grace period, or the pod is killed with
    requests in flight."""
    pause = _container("wijkgateway-api")["lifecycle"]["preStop"]["sleep"]["seconds"]
    grace = pod_spec(resource("Deployment", "wijkgateway-api"))["terminationGracePeriodSeconds"]
    assert 0 < pause < grace / 2


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=kind_name)
def test_the_replicas_are_spread_by_their_own_labels(deployment: dict) -> None:
    constraints = pod_spec(deployment)["topologySpreadConstraints"]
    assert "kubernetes.io/hostname" in {c["topologyKey"] for c in constraints}
    for constraint in constraints:
        assert selects(constraint["labelSelector"], pod_labels(deployment))
        assert constraint["whenUnsatisfiable"] == "ScheduleAnyway"  # a small cluster still fits


@pytest.mark.parametrize("workload", workloads(), ids=kind_name)
def test_every_pod_runs_hardened(workload: dict) -> None:
    pod = pod_spec(workload)
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    for container in pod["containers"]:
        assert container["securityContext"] == {
            "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]}}, container["name"]


def _worker_probe() -> tuple[list[str], Path, float]:
    """The worker's liveness command, the heartbeat file it reads, and the age it allows."""
    command = _container("wijkgateway-worker")["livenessProbe"]["exec"]["command"]
    assert command[:2] == ["python", "-c"]
    return command, Path(command[3]), float(command[4])


def _probe(command: list[str], path: Path) -> int:
    """The probe run here as the kubelet runs it in the pod, on ``path`` instead."""
    return subprocess.run([sys.executable, *command[1:3], str(path), *command[4:]],
                          capture_output=True, timeout=30).returncode


def test_the_worker_beats_where_its_probe_looks_on_a_writable_volume() -> None:
    worker = _container("wijkgateway-worker")
    _, path, _ = _worker_probe()
    args = worker["args"]
    assert Path(args[args.index("--heartbeat") + 1]) == path
    volumes = {v["name"]: v for v in pod_spec(resource("Deployment", "wijkgateway-worker"))
               ["volumes"]}
    (mount,) = [m for m in worker["volumeMounts"] if Path(m["mountPath"]) == path.parent]
    assert not mount.get("readOnly")  # the root filesystem is read-only
    assert "emptyDir" in volumes[mount["name"]]


def test_the_worker_probe_passes_on_a_fresh_beat_and_fails_on_an_old_or_missing_one(
        tmp_path: Path) -> None:
    command, _, allowed = _worker_probe()
    path = tmp_path / "alive"
    assert _probe(command, path) != 0  # no beat yet
    heartbeat(path)()
    assert _probe(command, path) == 0
    old = time.time() - allowed - 5
    os.utime(path, (old, old))
    assert _probe(command, path) == 1


def test_the_worker_probe_allows_a_slow_delivery() -> None:
    """Before the next beat, one send may spend the delivery timeout on each of connecting,
    writing and reading the status line, and about as long again resolving the name (the
    system resolver's default: 5 s a try, two tries)."""
    _, _, allowed = _worker_probe()
    timeout = float(resource("ConfigMap", "wijkgateway")["data"][
        "WIJKGATEWAY_DELIVERY_TIMEOUT_SECONDS"])
    assert allowed > 4 * timeout


# Connections a process holds at most, where the manifests do not say it: a worker sends one
# message at a time on one connection; `audit verify` checks in up to 4 processes, plus its own.
WORKER_CONNECTIONS, CRONJOB_CONNECTIONS, MIGRATION_CONNECTIONS = 1, {"verify": 5}, 1
POSTGRES_MAX_CONNECTIONS, POSTGRES_RESERVED = 100, 3  # PostgreSQL's defaults


def test_the_manifests_connections_fit_postgresqls_default_as_the_docs_say() -> None:
    """At every autoscaler's maximum plus a rollout's extra pod, with every Job running."""
    pool = make_engine("postgresql+psycopg://app@db.invalid/wijkgateway").pool  # connects not
    per_api = pool.size() + pool._max_overflow  # noqa: SLF001 - the ceiling has no public name

    def most(name: str) -> int:
        deployment = resource("Deployment", name)
        return (_autoscaler(deployment)["spec"]["maxReplicas"]
                + deployment["spec"]["strategy"]["rollingUpdate"]["maxSurge"])

    cronjobs = sum(CRONJOB_CONNECTIONS.get(c["metadata"]["name"].rsplit("-", 1)[1], 1)
                   for c in of_kind("CronJob"))
    total = (most("wijkgateway-api") * per_api + most("wijkgateway-worker") * WORKER_CONNECTIONS
             + cronjobs + MIGRATION_CONNECTIONS * len(of_kind("Job")))
    assert total <= POSTGRES_MAX_CONNECTIONS - POSTGRES_RESERVED
    docs = (REPO / "docs" / "deployment.md").read_text()
    (small,) = re.findall(r"^small: .* = (\d+)$", docs, re.M)
    assert (per_api, cronjobs, int(small)) == (20, 7, total)
    assert f"| PostgreSQL connections, at most | {total} |" in docs
