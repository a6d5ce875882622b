"""deploy/kubernetes/networkpolicy.yaml, read as the cluster reads it: policies select pods by
label and add up. Every gateway pod starts from nothing in and nothing out; the API's port is
open to the ingress controller only; every pod reaches DNS and the database's port; only the
worker reaches webhooks, and only at addresses the gateway's own egress policy would not refuse
anyway; the checkpoint CronJob reaches its witness."""

from __future__ import annotations

from ipaddress import ip_address, ip_network
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import make_url

from gateway.outbox.egress import refusal
from tests.deploy.files import (
    kind_name,
    manifests,
    pod_labels,
    pod_spec,
    resource,
    selects,
    workloads,
)

PUBLIC, INTERNAL = ip_address("145.97.39.155"), ip_address("10.20.0.7")


def _policies(workload: dict[str, Any], direction: str) -> list[dict[str, Any]]:
    """The policies that select this workload's pods for ``direction`` (Ingress, Egress)."""
    return [doc for _, doc in manifests() if doc["kind"] == "NetworkPolicy"
            and direction in doc["spec"]["policyTypes"]
            and selects(doc["spec"]["podSelector"], pod_labels(workload))]


def _rules(workload: dict[str, Any], direction: str) -> list[dict[str, Any]]:
    key = "ingress" if direction == "Ingress" else "egress"
    return [rule for policy in _policies(workload, direction)
            for rule in policy["spec"].get(key, [])]


def _ports(rule: dict[str, Any]) -> set[tuple[str, int | str]]:
    return {(port.get("protocol", "TCP"), port["port"]) for port in rule["ports"]}


def _in_block(address: Any, peer: dict[str, Any]) -> bool:
    block = peer.get("ipBlock")
    if block is None or ip_network(block["cidr"]).version != address.version:
        return False
    return address in ip_network(block["cidr"]) and not any(
        address in ip_network(cidr) for cidr in block.get("except", []))


def _reaches(workload: dict[str, Any], address: Any, port: int) -> bool:
    """Whether a pod may open TCP to an address outside the cluster on ``port``."""
    return any(("TCP", port) in _ports(rule)
               and ("to" not in rule or any(_in_block(address, p) for p in rule["to"]))
               for rule in _rules(workload, "Egress"))


def _named(name: str, kind: str = "Deployment") -> dict[str, Any]:
    return resource(kind, name)


@pytest.mark.parametrize("workload", workloads(), ids=kind_name)
def test_every_pod_starts_from_nothing_in_and_nothing_out(workload: dict) -> None:
    deny = [p for p in _policies(workload, "Ingress") if p in _policies(workload, "Egress")
            and "ingress" not in p["spec"] and "egress" not in p["spec"]]
    assert [p["metadata"]["name"] for p in deny] == ["wijkgateway-default-deny"]


def test_only_the_ingress_controller_reaches_the_api_on_the_port_the_service_sends_to() -> None:
    api = _named("wijkgateway-api")
    (rule,) = _rules(api, "Ingress")
    (container,) = pod_spec(api)["containers"]
    service_port = resource("Service", "wijkgateway-api")["spec"]["ports"][0]["targetPort"]
    assert _ports(rule) == {("TCP", service_port)}
    assert service_port in {port["name"] for port in container["ports"]}
    (peer,) = rule["from"]
    assert set(peer) == {"namespaceSelector"}  # one namespace, not the whole cluster


@pytest.mark.parametrize("workload", [w for w in workloads()
                                      if w["metadata"]["name"] != "wijkgateway-api"], ids=kind_name)
def test_nothing_else_receives_anything(workload: dict) -> None:
    assert _rules(workload, "Ingress") == []


@pytest.mark.parametrize("workload", workloads(), ids=kind_name)
def test_every_pod_reaches_the_cluster_dns_and_the_databases_port(workload: dict) -> None:
    rules = _rules(workload, "Egress")
    dns = [rule for rule in rules if {("UDP", 53), ("TCP", 53)} <= _ports(rule)]
    assert [peer["podSelector"]["matchLabels"] for rule in dns for peer in rule["to"]] \
        == [{"k8s-app": "kube-dns"}]
    url = resource("Secret", "wijkgateway")["stringData"]["WIJKGATEWAY_DATABASE_URL"]
    assert _reaches(workload, INTERNAL, make_url(url).port)


def test_only_the_worker_reaches_webhooks_and_only_at_public_addresses() -> None:
    assert (refusal(PUBLIC), refusal(INTERNAL)) == (None, "private")
    reach = {kind_name(w): (_reaches(w, PUBLIC, 443), _reaches(w, INTERNAL, 443))
             for w in workloads()}
    assert reach.pop("Deployment/wijkgateway-worker") == (True, False)
    assert reach.pop("CronJob/wijkgateway-audit-checkpoint") == (True, True)  # its witness
    assert set(reach.values()) == {(False, False)}


def test_the_worker_is_kept_only_from_networks_the_gateway_refuses_itself() -> None:
    """The policy's exceptions must never block a receiver the gateway would send to: every
    address in them is one the egress check calls internal."""
    blocks = [peer["ipBlock"] for rule in _rules(_named("wijkgateway-worker"), "Egress")
              for peer in rule.get("to", []) if "ipBlock" in peer]
    assert {ip_network(block["cidr"]).version for block in blocks} == {4, 6}
    for block in blocks:
        for cidr in block["except"]:
            network = ip_network(cidr)
            assert refusal(network.network_address) is not None, cidr
            assert refusal(network.broadcast_address) is not None, cidr


def test_the_checkpoint_job_reaches_its_witness() -> None:
    job = _named("wijkgateway-audit-checkpoint", "CronJob")
    (container,) = pod_spec(job)["containers"]
    witness = urlsplit(container["args"][container["args"].index("--publish") + 1])
    assert witness.scheme == "https"
    assert _reaches(job, PUBLIC, witness.port or 443)
