"""deploy/kubernetes/: every manifest valid for the pinned Kubernetes version (the
kubernetes-validate schemas, strict: an unknown field fails), every variable a real setting,
the CronJobs with the worker's settings and mounts, and the retry span the docs promise."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from gateway.delivery.worker import backoff_seconds
from gateway.platform.settings import Settings
from tests.deploy.files import (
    DEPLOY,
    MANIFESTS,
    REPO,
    SETTING_NAMES,
    assert_cli_accepts,
    kind_name,
    manifests,
    pod_spec,
    resource,
    workloads,
)

KUBERNETES_VERSION = "1.33"  # the oldest version the manifests promise to run on
CRONJOBS = {"wijkgateway-audit-checkpoint": ["audit", "checkpoint"],
            "wijkgateway-audit-verify": ["audit", "verify"],
            "wijkgateway-audit-purge": ["audit", "purge"]}


@pytest.mark.parametrize(("path", "doc"), manifests(),
                         ids=[f"{p.name}:{kind_name(d)}" for p, d in manifests()])
def test_the_manifest_is_valid_for_the_pinned_kubernetes(path: Path, doc: dict) -> None:
    assert kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True) \
        == KUBERNETES_VERSION


def test_validation_refuses_a_misspelled_field() -> None:
    """The check above can fail: strict schemas refuse an unknown field."""
    job = copy.deepcopy(resource("CronJob", "wijkgateway-audit-verify"))
    job["spec"]["schedul"] = job["spec"].pop("schedule")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(job, KUBERNETES_VERSION, strict=True)


def test_the_manifests_are_the_expected_set() -> None:
    assert sorted(kind_name(doc) for _, doc in manifests()) == [
        "ConfigMap/wijkgateway",
        "CronJob/wijkgateway-audit-checkpoint", "CronJob/wijkgateway-audit-purge",
        "CronJob/wijkgateway-audit-verify",
        "Deployment/wijkgateway-api", "Deployment/wijkgateway-worker",
        "HorizontalPodAutoscaler/wijkgateway-api", "HorizontalPodAutoscaler/wijkgateway-worker",
        "Job/wijkgateway-migrate",
        "NetworkPolicy/wijkgateway-api-ingress", "NetworkPolicy/wijkgateway-default-deny",
        "NetworkPolicy/wijkgateway-dns-and-database",
        "NetworkPolicy/wijkgateway-webhooks-egress", "NetworkPolicy/wijkgateway-witness-egress",
        "PodDisruptionBudget/wijkgateway-api", "PodDisruptionBudget/wijkgateway-worker",
        "Secret/wijkgateway", "Secret/wijkgateway-audit-key", "Secret/wijkgateway-owner",
        "Secret/wijkgateway-signing-key",
        "Service/wijkgateway-api"]
    assert [p.name for p in MANIFESTS] == [
        "api.yaml", "audit-cronjobs.yaml", "autoscaling.yaml", "configmap.yaml",
        "disruption-budgets.yaml", "migrate-job.yaml", "networkpolicy.yaml",
        "secret.example.yaml", "service.yaml", "worker.yaml"]


def _environment(container: dict[str, Any]) -> set[str]:
    """Every variable a container gets: its env, and each key of what envFrom names."""
    names = {variable["name"] for variable in container.get("env", [])}
    for source in container.get("envFrom", []):
        kind, ref = ("ConfigMap", source["configMapRef"]) if "configMapRef" in source \
            else ("Secret", source["secretRef"])
        doc = resource(kind, ref["name"])
        names |= set(doc.get("data") or doc.get("stringData"))
    return names


@pytest.mark.parametrize("workload", workloads(), ids=kind_name)
def test_every_variable_a_container_gets_is_a_setting(workload: dict) -> None:
    for container in pod_spec(workload)["containers"]:
        assert _environment(container) - SETTING_NAMES == set()


def test_only_the_migration_gets_the_owners_database_url() -> None:
    owner = {kind_name(w) for w in workloads() for c in pod_spec(w)["containers"]
             for v in c.get("env", []) if v.get("valueFrom", {}).get("secretKeyRef", {})
             .get("name") == "wijkgateway-owner"}
    assert owner == {"Job/wijkgateway-migrate"}
    assert [c.get("envFrom") for w in workloads() for c in pod_spec(w)["containers"]
            if any("wijkgateway-owner" in str(s) for s in c.get("envFrom", []))] == []


@pytest.mark.parametrize("name", CRONJOBS)
def test_a_cronjob_runs_with_the_workers_settings_and_checkpoint_key(name: str) -> None:
    job, worker = resource("CronJob", name), resource("Deployment", "wijkgateway-worker")
    (container,), (reference,) = pod_spec(job)["containers"], pod_spec(worker)["containers"]
    for key in ("image", "envFrom", "securityContext", "volumeMounts"):
        assert container[key] == reference[key], key
    for key in ("securityContext", "volumes", "automountServiceAccountToken"):
        assert pod_spec(job)[key] == pod_spec(worker)[key], key
    assert container["args"][:2] == CRONJOBS[name]
    assert job["spec"]["concurrencyPolicy"] == "Forbid"
    assert_cli_accepts(container["args"])


def test_the_schedules() -> None:
    assert {name: resource("CronJob", name)["spec"]["schedule"] for name in CRONJOBS} == {
        "wijkgateway-audit-checkpoint": "*/15 * * * *",
        "wijkgateway-audit-verify": "30 2 * * *",
        "wijkgateway-audit-purge": "30 4 * * *"}


@pytest.mark.parametrize("workload", workloads(), ids=kind_name)
def test_the_container_command_exists(workload: dict) -> None:
    for container in pod_spec(workload)["containers"]:
        assert_cli_accepts(container["args"])


@pytest.mark.parametrize("workload", workloads(), ids=kind_name)
def test_a_pod_that_mounts_a_secret_can_read_it(workload: dict) -> None:
    """Secret files are root's with mode 0440 unless fsGroup names the user's group."""
    pod = pod_spec(workload)
    if any("secret" in volume for volume in pod.get("volumes", [])):
        assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsGroup"] == 10001


@pytest.mark.parametrize("workload", workloads(), ids=kind_name)
def test_the_key_paths_lie_in_the_mounted_secrets(workload: dict) -> None:
    configmap = resource("ConfigMap", "wijkgateway")["data"]
    for container in pod_spec(workload)["containers"]:
        for mount in container.get("volumeMounts", []):
            if mount["name"] in ("signing-key", "audit-key"):
                setting = {"signing-key": "WIJKGATEWAY_SIGNING_KEY_PATH",
                           "audit-key": "WIJKGATEWAY_AUDIT_SIGNING_KEY_PATH"}[mount["name"]]
                volume = next(v for v in pod_spec(workload)["volumes"]
                              if v["name"] == mount["name"])
                (key,) = resource("Secret", volume["secret"]["secretName"])["stringData"]
                assert configmap[setting] == f"{mount['mountPath']}/{key}"


def _retry_span(settings: Settings) -> tuple[float, float]:
    """Seconds from a message's first failed attempt to its last (when it goes dead), at the
    smallest and the largest jitter: the worker waits backoff_seconds(n) after attempt n."""
    def total(jitter: float) -> float:
        return sum(backoff_seconds(attempt, settings.outbox_backoff_base_seconds,
                                   settings.outbox_backoff_max_seconds, jitter)
                   for attempt in range(1, settings.outbox_max_attempts))
    return total(0.0), total(1.0)


def test_the_configmaps_retries_ride_out_the_hours_the_docs_promise() -> None:
    data = resource("ConfigMap", "wijkgateway")["data"]
    settings = Settings(**{k.removeprefix("WIJKGATEWAY_").lower(): v for k, v in data.items()},
                        secret_key="s" * 32, pseudonym_key="p" * 32)
    low, high = _retry_span(settings)
    assert (settings.outbox_max_attempts, low, high) == (15, 7447.0, 14894.0)
    promise = f"{low / 3600:.1f} to {high / 3600:.1f} hours"
    assert promise == "2.1 to 4.1 hours"
    for path in (DEPLOY / "kubernetes" / "configmap.yaml", DEPLOY / "env.example",
                 REPO / "docs" / "deployment.md"):
        assert promise in " ".join(path.read_text().replace("#", " ").split()), path
    # the setting's default is the ConfigMap's: the docs' table says the same
    assert Settings.model_fields["outbox_max_attempts"].default == settings.outbox_max_attempts
