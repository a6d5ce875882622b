"""What tests/deploy/ reads: the deployment files of deploy/ and the Dockerfile, parsed once.

``compose-spec.json`` beside this file is the Compose Specification's JSON schema
(github.com/compose-spec/compose-spec, ``schema/compose-spec.json``, Apache-2.0, licence in
``compose-spec.LICENSE``), taken from the check-jsonschema 0.39.0 wheel's vendored copy
(sha256 d549057ebc2925f39f62799eab0db7b9e2c18b35b6c00595199116da3ed10e64): the network here
reaches package registries only.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from gateway.platform.settings import Settings

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
COMPOSE_FILES = sorted(DEPLOY.glob("docker-compose*.yml"))
MANIFESTS = sorted((DEPLOY / "kubernetes").glob("*.yaml"))
IMAGE = "wijkgateway:local"  # what the compose files build and run
SETTING_NAMES = frozenset(f"WIJKGATEWAY_{name.upper()}" for name in Settings.model_fields)


@cache
def compose_schema() -> dict[str, Any]:
    return json.loads((Path(__file__).with_name("compose-spec.json")).read_text())


@cache
def compose(path: Path) -> dict[str, Any]:
    """A compose file with its YAML anchors and merge keys resolved, as compose reads it."""
    return yaml.safe_load(path.read_text())


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's ``${VAR:-default}``, the only form the development file uses."""
    return re.sub(r"\$\{([A-Z_]+):-([^}]*)\}", lambda m: variables.get(m.group(1), m.group(2)),
                  value)


def gateway_services(path: Path) -> dict[str, dict[str, Any]]:
    """The services that run the gateway's image (not PostgreSQL)."""
    return {name: service for name, service in compose(path)["services"].items()
            if service.get("image") == IMAGE}


@cache
def manifests() -> tuple[tuple[Path, dict[str, Any]], ...]:
    return tuple((path, doc) for path in MANIFESTS for doc in yaml.safe_load_all(path.read_text())
                 if doc)


def resource(kind: str, name: str) -> dict[str, Any]:
    matches = [doc for _, doc in manifests()
               if doc["kind"] == kind and doc["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} found"
    return matches[0]


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for _, doc in manifests() if doc["kind"] == kind]


def kind_name(doc: dict[str, Any]) -> str:
    """``Kind/name``, as kubectl names a resource (and as test ids show it)."""
    return f"{doc['kind']}/{doc['metadata']['name']}"


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    """The pod template's spec of a Deployment, Job or CronJob."""
    spec = workload["spec"]
    if workload["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]


def workloads() -> list[dict[str, Any]]:
    return [doc for _, doc in manifests() if doc["kind"] in ("Deployment", "Job", "CronJob")]


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str

    def exec_form(self) -> list[str]:
        """The JSON (exec) form of CMD/ENTRYPOINT/HEALTHCHECK ... CMD, else shell words."""
        text = self.arguments.split(" CMD ", 1)[-1].strip() if self.keyword == "HEALTHCHECK" \
            else self.arguments
        return json.loads(text) if text.startswith("[") else shlex.split(text)


@cache
def dockerfile() -> tuple[Instruction, ...]:
    """The Dockerfile's instructions, comments dropped and continuation lines joined."""
    text = re.sub(r"\\\n", " ", "\n".join(
        line for line in (REPO / "Dockerfile").read_text().splitlines()
        if not line.lstrip().startswith("#")))
    return tuple(Instruction(keyword.upper(), " ".join(arguments.split()))
                 for keyword, _, arguments in (line.strip().partition(" ")
                                               for line in text.splitlines() if line.strip()))


def assert_cli_accepts(args: list[str]) -> None:
    """``wijkgateway ARGS`` names a real command with real options (they parse; --help stops
    it before it runs)."""
    from typer.testing import CliRunner

    from gateway.cli import app

    result = CliRunner().invoke(app, [*args, "--help"])
    assert result.exit_code == 0, f"wijkgateway {' '.join(args)}: {result.output}"


def image_env() -> dict[str, str]:
    """The ENV the image sets (``KEY=value`` pairs)."""
    return dict(pair.split("=", 1) for i in dockerfile() if i.keyword == "ENV"
                for pair in shlex.split(i.arguments))


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Whether a Kubernetes label selector (matchLabels and matchExpressions) matches labels;
    an empty selector matches everything, as in a NetworkPolicy's podSelector."""
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    tests = {"In": lambda key, values: labels.get(key) in values,
             "NotIn": lambda key, values: labels.get(key) not in values,
             "Exists": lambda key, _: key in labels,
             "DoesNotExist": lambda key, _: key not in labels}
    return all(tests[e["operator"]](e["key"], e.get("values", []))
               for e in selector.get("matchExpressions", []))


def pod_labels(workload: dict[str, Any]) -> dict[str, str]:
    """The labels a Deployment's, Job's or CronJob's pods get."""
    spec = workload["spec"]
    if workload["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["metadata"]["labels"]
