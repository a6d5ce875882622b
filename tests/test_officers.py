"""Console accounts: the scrypt hash format and its checks, the account rules, authentication
(the same work whether or not the account exists), and ``wijkgateway officers``."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from gateway.cli import app
from gateway.console import officers
from gateway.console.officers import (
    OfficerError,
    add_officer,
    authenticate,
    disable_officer,
    hash_password,
    verify_password,
)
from gateway.platform.db.engine import make_engine, make_sessionmaker
from gateway.platform.settings import get_settings

PASSWORD = "correct horse battery staple"
runner = CliRunner()


class TestPasswordHash:
    def test_format_is_scrypt_with_its_parameters_a_random_salt_and_the_hash(self) -> None:
        stored = hash_password(PASSWORD)
        scheme, n, r, p, salt, digest = stored.split("$")
        assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
        assert len(base64.b64decode(salt)) == 16
        assert base64.b64decode(digest) == hashlib.scrypt(
            PASSWORD.encode(), salt=base64.b64decode(salt), n=2**14, r=8, p=1, dklen=32)
        assert hash_password(PASSWORD).split("$")[4] != salt

    def test_verify_accepts_only_the_password(self) -> None:
        stored = hash_password(PASSWORD)
        assert verify_password(PASSWORD, stored) is True
        assert verify_password(PASSWORD + " ", stored) is False
        assert verify_password("", stored) is False

    def test_verify_compares_in_constant_time(self, monkeypatch: pytest.MonkeyPatch) -> None:
        compared: list[tuple[bytes, bytes]] = []
        real = officers.hmac.compare_digest

        def spy(a: bytes, b: bytes) -> bool:
            compared.append((a, b))
            return real(a, b)

        monkeypatch.setattr(officers.hmac, "compare_digest", spy)
        verify_password("wrong password", hash_password(PASSWORD))
        assert len(compared) == 1

    @pytest.mark.parametrize("stored", [
        "", "plain", "bcrypt$16384$8$1$AAAA$AAAA",
        "scrypt$16384$8$1$not base64!$AAAA",
        "scrypt$3$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",  # n must be a power of two
        "scrypt$1073741824$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",  # beyond the memory limit
        "scrypt$x$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",
    ])
    def test_a_malformed_hash_never_matches(self, stored: str) -> None:
        assert verify_password(PASSWORD, stored) is False


class TestAccounts:
    @pytest.mark.parametrize("username,password,role,message", [
        ("Anna", PASSWORD, "privacy_officer", "username"),
        ("a", PASSWORD, "privacy_officer", "username"),
        ("anna boer", PASSWORD, "privacy_officer", "username"),
        ("-anna", PASSWORD, "privacy_officer", "username"),
        ("x" * 65, PASSWORD, "privacy_officer", "username"),
        ("anna';--", PASSWORD, "privacy_officer", "username"),
        ("anna", "elevenchars", "privacy_officer", "at least 12 characters"),
        ("anna", PASSWORD, "Privacy Officer", "role"),
    ])
    def test_rules(self, sessions: sessionmaker[Session], username: str, password: str,
                   role: str, message: str) -> None:
        with sessions.begin() as session, pytest.raises(OfficerError, match=message):
            add_officer(session, username, password, role)

    def test_a_username_is_taken_once(self, sessions: sessionmaker[Session]) -> None:
        with sessions.begin() as session:
            add_officer(session, "anna", PASSWORD)
        with sessions.begin() as session, pytest.raises(OfficerError, match="'anna' exists"):
            add_officer(session, "anna", "another good password")

    def test_authenticate(self, sessions: sessionmaker[Session]) -> None:
        with sessions.begin() as session:
            added = add_officer(session, "anna", PASSWORD)
            add_officer(session, "ben", PASSWORD, role="support")
            add_officer(session, "carla", PASSWORD)
            disable_officer(session, "carla")
        with sessions() as session:
            assert authenticate(session, "anna", PASSWORD).id == added.id
            assert authenticate(session, "ben", PASSWORD).role == "support"  # roles: the console
            assert authenticate(session, "anna", "wrong password!") is None
            assert authenticate(session, "carla", PASSWORD) is None
            assert authenticate(session, "nobody", PASSWORD) is None
            assert authenticate(session, "anna", PASSWORD + "x" * 1100) is None

    def test_unknown_and_disabled_accounts_cost_one_scrypt_run_too(
            self, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> None:
        with sessions.begin() as session:
            add_officer(session, "anna", PASSWORD)
            add_officer(session, "carla", PASSWORD)
            disable_officer(session, "carla")
        officers._decoy_hash()  # made once per process
        runs: list[str] = []
        real = officers._scrypt
        monkeypatch.setattr(officers, "_scrypt", lambda *a: runs.append("run") or real(*a))
        with sessions() as session:
            for username, password in (("anna", PASSWORD), ("anna", "wrong password!"),
                                       ("carla", PASSWORD), ("nobody", PASSWORD),
                                       ("Not A Username", PASSWORD)):
                runs.clear()
                authenticate(session, username, password)
                assert runs == ["run"], username


@pytest.fixture
def cli_env(tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:  # noqa: ANN001
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("WIJKGATEWAY_DATABASE_URL", url)
    monkeypatch.setenv("WIJKGATEWAY_SIGNING_KEY_PATH", str(tmp_path / "key.json"))
    monkeypatch.setenv("WIJKGATEWAY_SECRET_KEY", "s" * 40)
    get_settings.cache_clear()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    yield url
    get_settings.cache_clear()


def _listed() -> list[dict]:
    result = runner.invoke(app, ["officers", "list"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


class TestCli:
    def test_add_from_stdin_list_and_disable(self, cli_env: str) -> None:
        added = runner.invoke(app, ["officers", "add", "anna", "--password-stdin"],
                              input=f"{PASSWORD}\n")
        assert (added.exit_code, added.output) == (0, "added officer anna (privacy_officer)\n")
        [listed] = _listed()
        assert {k: v for k, v in listed.items() if k != "created_at"} == {
            "username": "anna", "role": "privacy_officer", "disabled": False}
        assert runner.invoke(app, ["officers", "disable", "anna"]).output == \
            "disabled officer anna\n"
        assert _listed()[0]["disabled"] is True
        engine = make_engine(cli_env)
        with make_sessionmaker(engine)() as session:
            assert authenticate(session, "anna", PASSWORD) is None
        engine.dispose()

    def test_add_asks_for_the_password_twice_and_never_shows_it(self, cli_env: str) -> None:
        added = runner.invoke(app, ["officers", "add", "ben", "--role", "support"],
                              input=f"{PASSWORD}\n{PASSWORD}\n")
        assert added.exit_code == 0, added.output
        assert PASSWORD not in added.output
        assert [(o["username"], o["role"]) for o in _listed()] == [("ben", "support")]

    def test_a_mistyped_confirmation_adds_nothing(self, cli_env: str) -> None:
        added = runner.invoke(app, ["officers", "add", "ben"],
                              input=f"{PASSWORD}\n{PASSWORD}!\n")
        assert added.exit_code != 0
        assert "do not match" in added.output
        assert _listed() == []

    @pytest.mark.parametrize("args,stdin,message", [
        (["officers", "add", "anna", "--password-stdin"], "short\n", "at least 12 characters"),
        (["officers", "add", "Anna Boer", "--password-stdin"], f"{PASSWORD}\n", "username"),
        (["officers", "add", "anna", "--password-stdin"], f"{PASSWORD}\n", "'anna' exists"),
        (["officers", "disable", "nobody"], "", "no officer 'nobody'"),
    ])
    def test_mistakes_exit_2_with_a_message(self, cli_env: str, args: list[str], stdin: str,
                                            message: str) -> None:
        if "exists" in message:
            runner.invoke(app, args, input=stdin)
        result = runner.invoke(app, args, input=stdin)
        assert result.exit_code == 2
        assert message in result.output
