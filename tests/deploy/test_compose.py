"""deploy/'s compose files: valid by the Compose Specification's JSON schema, the development
file runnable with no setup, the production file with keys made inside the image, and every
variable they give the gateway a real setting."""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path

import jsonschema
import pytest

from gateway.platform.settings import Settings
from tests.deploy.files import (
    COMPOSE_FILES,
    DEPLOY,
    SETTING_NAMES,
    assert_cli_accepts,
    compose,
    compose_schema,
    gateway_services,
    image_env,
    interpolate,
)

DEV, PROD = DEPLOY / "docker-compose.dev.yml", DEPLOY / "docker-compose.yml"
IDS = [path.name for path in COMPOSE_FILES]


def _schema_errors(document: dict) -> list[str]:
    validator = jsonschema.Draft202012Validator(compose_schema())
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(document)]


def test_both_files_are_here() -> None:
    assert COMPOSE_FILES == [DEV, PROD]


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=IDS)
def test_the_file_follows_the_compose_specification(path: Path) -> None:
    assert _schema_errors(compose(path)) == []


def test_the_schema_refuses_a_misspelled_key() -> None:
    """The check above can fail: one typo in a service is named."""
    document = copy.deepcopy(compose(DEV))
    document["services"]["api"]["comand"] = document["services"]["api"].pop("command")
    assert _schema_errors(document) == [
        "services/api: Unevaluated properties are not allowed ('comand' was unexpected)"]


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=IDS)
def test_every_variable_given_to_the_gateway_is_a_setting(path: Path) -> None:
    for name, service in gateway_services(path).items():
        assert set(service.get("environment", {})) - SETTING_NAMES == set(), name


def test_the_image_sets_only_settings_of_its_own() -> None:
    assert {k for k in image_env() if k.startswith("WIJKGATEWAY_")} - SETTING_NAMES == set()


def test_env_example_names_every_setting_and_nothing_else() -> None:
    named = re.findall(r"^(?:# )?(WIJKGATEWAY_[A-Z_]+)=", (DEPLOY / "env.example").read_text(),
                       re.M)
    assert sorted(set(named)) == sorted(SETTING_NAMES)
    assert len(named) == len(set(named))


def test_the_development_file_needs_no_setup() -> None:
    """No .env, no env file, no secrets: every variable has a default."""
    text = DEV.read_text()
    variables = set(re.findall(r"\$\{([A-Z_]+)(:-)?[^}]*\}", text))
    assert variables == {("WIJKGATEWAY_PORT", ":-")}
    assert "env_file" not in text and "secrets" not in compose(DEV)


def test_the_development_file_serves_plain_http_on_loopback_with_demo_data() -> None:
    services = compose(DEV)["services"]
    assert sorted(services) == ["api", "demo", "keys", "migrate", "postgres", "worker"]
    api = services["api"]
    assert api["ports"] == ["127.0.0.1:${WIJKGATEWAY_PORT:-8000}:${WIJKGATEWAY_PORT:-8000}"]
    assert api["command"][-2:] == ["--port", "${WIJKGATEWAY_PORT:-8000}"]
    assert api["environment"]["WIJKGATEWAY_PUBLIC_BASE_URL"] \
        == "http://127.0.0.1:${WIJKGATEWAY_PORT:-8000}"
    assert api["environment"]["WIJKGATEWAY_ENVIRONMENT"] == "development"
    assert services["demo"]["command"] == ["demo", "load"]
    assert api["depends_on"]["demo"] == {"condition": "service_completed_successfully"}


def test_the_production_file_needs_its_passwords_and_serves_behind_a_proxy() -> None:
    text = PROD.read_text()
    assert sorted(set(re.findall(r"\$\{([A-Z_]+):\?", text))) \
        == ["APP_DB_PASSWORD", "POSTGRES_PASSWORD"]
    services = compose(PROD)["services"]
    assert sorted(services) == ["api", "keys", "migrate", "postgres", "worker"]
    assert services["api"]["ports"] == ["127.0.0.1:8000:8000"]
    assert {s["environment"]["WIJKGATEWAY_ENVIRONMENT"]
            for s in gateway_services(PROD).values()} == {"production"}


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=IDS)
def test_keys_are_made_inside_the_image_before_the_gateway_starts(path: Path) -> None:
    services = gateway_services(path)
    folders = {os.path.dirname(image_env()[name]): name for name in
               ("WIJKGATEWAY_SIGNING_KEY_PATH", "WIJKGATEWAY_AUDIT_SIGNING_KEY_PATH")}
    keys = services["keys"]
    assert keys["entrypoint"] == ["wijkgateway-init-keys"]
    assert sorted(mount.split(":")[1] for mount in keys["volumes"]) == sorted(folders)
    for name in ("api", "worker"):
        assert services[name]["depends_on"]["keys"] == {
            "condition": "service_completed_successfully"}
    both = ["signing-key:/etc/wijkgateway/signing-key:ro",
            "audit-key:/etc/wijkgateway/audit-key:ro"]
    assert services["api"]["volumes"] == both
    # in production the worker gets only the checkpoint key (it signs no tokens)
    assert services["worker"]["volumes"] == (both[1:] if path == PROD else both)


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=IDS)
def test_the_worker_switches_off_the_images_http_healthcheck(path: Path) -> None:
    assert gateway_services(path)["worker"]["healthcheck"] == {"disable": True}
    # production's api keeps the image's; the development one moves it to its port
    # (test_run_on_postgres runs both)
    assert ("healthcheck" in gateway_services(path)["api"]) is (path == DEV)


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=IDS)
def test_the_commands_exist(path: Path) -> None:
    commands = [[interpolate(arg, {}) for arg in s["command"]]
                for s in gateway_services(path).values() if s.get("command")]
    assert len(commands) == (4 if path == DEV else 3)
    for command in commands:
        assert_cli_accepts(command)


# Lines of env.example that show an example rather than the default.
EXAMPLES = {"WIJKGATEWAY_PUBLIC_BASE_URLS", "WIJKGATEWAY_FORWARDED_ALLOW_IPS",
            "WIJKGATEWAY_ALLOW_HTTP_WEBHOOKS", "WIJKGATEWAY_WEBHOOK_ALLOWED_NETWORKS",
            "WIJKGATEWAY_PROCESSING_ACTIVITIES_PATH", "WIJKGATEWAY_PSEUDONYM_PREVIOUS_KEYS",
            "WIJKGATEWAY_AUDIT_ORIGIN", "WIJKGATEWAY_AUDIT_PREVIOUS_VERIFIER_KEYS"}


def test_env_examples_commented_lines_are_valid_and_show_the_defaults(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A commented-out line shows the default (the image's, where it sets one), or, for the
    few in EXAMPLES, a value the setting accepts."""
    lines = dict(re.findall(r"^# (WIJKGATEWAY_[A-Z_]+)=(.*)$",
                            (DEPLOY / "env.example").read_text(), re.M))
    assert set(lines) >= EXAMPLES
    for name in list(os.environ):
        if name.startswith("WIJKGATEWAY_"):
            monkeypatch.delenv(name)
    defaults = Settings()
    for name, value in lines.items():
        monkeypatch.setenv(name, value)
    shown = Settings()  # every value parses
    field = {name: name.removeprefix("WIJKGATEWAY_").lower() for name in lines}
    differ = {name for name in lines
              if getattr(shown, field[name]) != getattr(defaults, field[name])
              and image_env().get(name) != lines[name]}
    assert differ == EXAMPLES
