"""The ``wijkgateway`` command, run as users run it (typer's runner, env-configured)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey
from typer.testing import CliRunner

from gateway.cli import app, proxy_options
from gateway.platform.db.engine import make_engine, make_sessionmaker
from gateway.platform.db.models import Person
from gateway.platform.settings import Settings, get_settings

runner = CliRunner()


@pytest.fixture
def env(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("WIJKGATEWAY_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("WIJKGATEWAY_SIGNING_KEY_PATH", str(tmp_path / "key.json"))
    monkeypatch.setenv("WIJKGATEWAY_SECRET_KEY", "s" * 40)
    get_settings.cache_clear()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    yield
    get_settings.cache_clear()


def test_clients_add_list_revoke(env: None) -> None:
    assert runner.invoke(app, ["teams", "add", "wijkteam-oost", "--name", "Oost"]).exit_code == 0
    added = runner.invoke(app, ["clients", "add", "Praktijk Oost", "--scope",
                                "system/ServiceRequest.write system/Task.read"])
    assert added.exit_code == 0, added.output
    created = json.loads(added.output)
    assert created["client_id"].startswith("praktijk-oost-")
    assert len(created["client_secret"]) >= 40
    assert created["webhook_secret"].startswith("whsec_")
    listed = json.loads(runner.invoke(app, ["clients", "list"]).output)
    assert [c["client_id"] for c in listed] == [created["client_id"]]
    assert "client_secret" not in listed[0]
    assert runner.invoke(app, ["clients", "revoke", created["client_id"]]).exit_code == 0
    assert json.loads(runner.invoke(app, ["clients", "list"]).output)[0]["revoked"] is True


def test_teams_get_identifiers_unique_across_teams(env: None) -> None:
    added = runner.invoke(app, ["teams", "add", "wijkteam-oost", "--name", "Oost",
                                "--identifier", "ura:12345678", "--identifier", "agb:01234567"])
    assert (added.exit_code, added.output) == (0, "added team wijkteam-oost\n")
    taken = runner.invoke(app, ["teams", "add", "wijkteam-west", "--name", "West",
                                "--identifier", "ura:12345678"])
    assert taken.exit_code == 2
    assert "identifier ura:12345678 belongs to team 'wijkteam-oost' already" in taken.output
    assert json.loads(runner.invoke(app, ["teams", "list"]).output) == [
        {"id": "wijkteam-oost", "name": "Oost", "identifiers": ["agb:01234567", "ura:12345678"]}]


def test_an_existing_team_gets_identifiers(env: None) -> None:
    assert runner.invoke(app, ["teams", "add", "wijkteam-oost", "--name", "Oost"]).exit_code == 0
    added = runner.invoke(app, ["teams", "add-identifiers", "wijkteam-oost", "ura:12345678",
                                "agb:01234567"])
    assert (added.exit_code, added.output) == (
        0, "team wijkteam-oost: added ura:12345678, agb:01234567\n")
    assert json.loads(runner.invoke(app, ["teams", "list"]).output) == [
        {"id": "wijkteam-oost", "name": "Oost", "identifiers": ["agb:01234567", "ura:12345678"]}]


@pytest.mark.parametrize("args,message", [
    (["clients", "add", "X", "--scope", "system/Nope.read"], "unknown scope"),
    (["clients", "add", "X", "--scope", "system/Task.read", "--team", "nope"], "unknown team"),
    (["clients", "revoke", "nobody"], "no client"),
    (["outbox", "replay", "999"], "no outbox message"),
    (["teams", "add", "bad id!", "--name", "x"], "team id"),
    (["teams", "add-identifiers", "nope", "ura:12345678"], "no team 'nope'"),
    (["teams", "add", "t-1", "--name", "x", "--identifier", "ura:1234567"],
     "identifier 'ura:1234567': not a valid URA number (8 digits)"),
    (["teams", "add", "t-1", "--name", "x", "--identifier", "uzi:900012345"],
     "a team's organisation is named by its AGB or URA"),
    (["teams", "add", "t-1", "--name", "x", "--identifier", "kvk:12345678"],
     "start with one of agb:, uzi:, ura:"),
    (["teams", "add", "t-1", "--name", "x", "--identifier", "agb:01234567", "--identifier",
      "agb:01234567"], "an identifier is given twice"),
    (["clients", "add", "X", "--scope", "system/Task.read", "--organization", "agb:1"],
     "agb:<8 digits>"),
    (["clients", "actors", "add", "nobody", "w-1", "--role", "worker"], "no client"),
    (["demo", "subject-token", "nobody"], "not a demo client"),
])
def test_mistakes_exit_2_with_a_message(env: None, args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output


def test_demo_load_is_idempotent_and_outbox_list_is_empty(env: None) -> None:
    first = runner.invoke(app, ["demo", "load"])
    assert "client demo-huisarts" in first.output
    assert "already loaded" in runner.invoke(app, ["demo", "load"]).output
    assert json.loads(runner.invoke(app, ["outbox", "list", "--status", "dead"]).output) == []
    assert json.loads(runner.invoke(app, ["worker", "--once"]).output) == {"attempted": 0}


def test_actors_are_registered_and_named_by_the_demo_subject_token(env: None) -> None:
    assert runner.invoke(app, ["demo", "load"]).exit_code == 0
    added = runner.invoke(app, ["clients", "actors", "add", "demo-wijkteam-noord", "leider-1",
                                "--role", "team-leader", "--unit", "youth"])
    assert added.exit_code == 0, added.output
    bad = runner.invoke(app, ["clients", "actors", "add", "demo-wijkteam-noord", "leider-1",
                              "--role", "chief"])
    assert (bad.exit_code, "role must be one of" in bad.output) == (2, True)
    listed = json.loads(runner.invoke(app, ["clients", "actors", "list",
                                            "demo-wijkteam-noord"]).output)
    assert listed == [{"actor": "leider-1", "role": "team-leader", "unit": "youth"},
                      {"actor": "medewerker-1", "role": "worker", "unit": "adult"}]
    removed = runner.invoke(app, ["clients", "actors", "remove", "demo-wijkteam-noord",
                                  "leider-1", "--role", "team-leader"])
    assert (removed.exit_code, "no longer acts for leider-1" in removed.output) == (0, True)
    again = runner.invoke(app, ["clients", "actors", "remove", "demo-wijkteam-noord",
                                "leider-1", "--role", "team-leader"])
    assert (again.exit_code, "is not registered to act" in again.output) == (2, True)
    assert [a["actor"] for a in json.loads(runner.invoke(app, [
        "clients", "actors", "list", "demo-wijkteam-noord"]).output)] == ["medewerker-1"]
    token = runner.invoke(app, ["demo", "subject-token", "demo-huisarts"]).output.strip()
    claims = jwt.decode(token, OctKey.import_key("demo-huisarts-secret")).claims
    assert (claims["iss"], claims["sub"], claims["role"], claims["aud"]) == (
        "demo-huisarts", "huisarts-1", "gp", "http://127.0.0.1:8000/oauth/token")


def test_a_registered_worker_gets_a_subject_token_signed_with_the_secret(
        env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    added = json.loads(runner.invoke(app, ["clients", "add", "Registratie", "--scope",
                                           "system/Task.read"]).output)
    client_id, secret = added["client_id"], added["client_secret"]
    token = ["clients", "actors", "token", client_id, "w-1", "--role", "worker"]
    assert "set WIJKGATEWAY_CLIENT_SECRET" in runner.invoke(app, token).output
    monkeypatch.setenv("WIJKGATEWAY_CLIENT_SECRET", secret)
    refused = runner.invoke(app, token)
    assert (refused.exit_code, "register it first" in refused.output) == (2, True)
    assert runner.invoke(app, ["clients", "actors", "add", client_id, "w-1", "--role",
                               "worker", "--unit", "adult"]).exit_code == 0
    assert runner.invoke(app, token).exit_code == 2  # registered for the adult unit only
    made = runner.invoke(app, [*token, "--unit", "adult"])
    claims = jwt.decode(made.output.strip(), OctKey.import_key(secret)).claims
    assert (claims["iss"], claims["sub"], claims["role"], claims["unit"]) == (
        client_id, "w-1", "worker", "adult")


@pytest.mark.parametrize("trusted,options", [
    ("", {"proxy_headers": False}),
    ("10.0.0.5", {"proxy_headers": True, "forwarded_allow_ips": "10.0.0.5"}),
])
def test_forwarded_headers_are_trusted_only_from_configured_proxies(
        trusted: str, options: dict) -> None:
    assert proxy_options(Settings(forwarded_allow_ips=trusted)) == options


def test_config_table_lists_every_setting(env: None) -> None:
    output = runner.invoke(app, ["config", "table"]).output
    for name in Settings.model_fields:
        assert f"`WIJKGATEWAY_{name.upper()}`" in output
    # docs/configuration.md shows the generated table as it is (regenerate it on a change)
    documented = (Path(__file__).parents[1] / "docs" / "configuration.md").read_text()
    assert output.strip() in documented


@pytest.mark.parametrize("environment", ["test", "production"])
@pytest.mark.parametrize("given,refused", [
    ({}, "WIJKGATEWAY_SECRET_KEY"),
    ({"secret_key": "s" * 40}, "WIJKGATEWAY_PSEUDONYM_KEY"),
    ({"secret_key": "short", "pseudonym_key": "p" * 40}, "WIJKGATEWAY_SECRET_KEY"),
])
def test_only_development_starts_with_the_built_in_keys(
        monkeypatch: pytest.MonkeyPatch, environment: str, given: dict, refused: str) -> None:
    for name in ("SECRET_KEY", "PSEUDONYM_KEY"):
        monkeypatch.delenv(f"WIJKGATEWAY_{name}", raising=False)
    with pytest.raises(ValueError, match=refused):
        Settings(environment=environment, **given)
    assert Settings(environment="development").secret_key  # development keeps them


@pytest.fixture
def known_person(env: None) -> None:
    with make_sessionmaker(make_engine(get_settings().database_url)).begin() as session:
        session.add(Person(bsn="111222333", birth_date=date(1980, 1, 1)))


def test_consent_explain(known_person: None) -> None:
    ask = ["consent", "explain", "--activity", "casusoverleg", "--patient", "111222333",
           "--recipient", "wijkteam-noord:casusoverleg-deelnemer", "--recipient", "gp:huisarts"]
    result = runner.invoke(app, ask)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("deny: casusoverleg to wijkteam-noord (casusoverleg-deelnemer)")
    assert "no consent of the person" in lines[0]
    assert "does not disclose to role 'huisarts'" in lines[1]
    decision = json.loads("\n".join(lines[2:]))
    assert [r["decision"] for r in decision["recipients"]] == ["deny", "deny"]
    assert "111222333" not in result.output


@pytest.mark.parametrize("args,message", [
    (["--activity", "nope", "--patient", "111222333", "--recipient", "a:b"],
     "unknown processing activity 'nope'"),
    (["--activity", "casusoverleg", "--patient", "999998456", "--recipient", "a:b"],
     "unknown person"),
    (["--activity", "casusoverleg", "--patient", "111222333", "--recipient", "a"],
     "--recipient takes organisation:role"),
])
def test_consent_explain_bad_input(known_person: None, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["consent", "explain", *args])
    assert result.exit_code == 2
    assert message in result.output
