"""``wijkgateway import menscentraal``: an Excel export of the adult records' caseload goes in
row by row, each row whole or not at all, reported by line and column without values; a
second run (or a run after a crash) adds nothing twice."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from sqlalchemy import func, select
from typer.testing import CliRunner

from gateway.cli import app, imports
from gateway.pipeline import bulk
from gateway.platform.db.engine import make_engine, make_sessionmaker
from gateway.platform.db.models import HouseholdMember, Involvement, Person, ProcessingLogEntry
from gateway.platform.settings import get_settings
from tests.support.samples import VALID_BSNS

runner = CliRunner()
HEADER = "clientnummer;bsn;achternaam;voornamen;geboortedatum;postcode;huishoudnummer;rol;" \
         "trajectnummer;domein;trajectstart"
ROWS = [
    f"C-1;{VALID_BSNS[0]};Jansen;Anna;04-03-1988;1234 ab;H-1;ouder;T-1;financien;01-06-2026",
    f"C-2;{VALID_BSNS[1]};Jansen;Piet;1986-07-01;1234AB;H-1;partner;;;",
    "C-3;;Bakker;Sem;2019-05-06;1234AB;H-1;kind;;;",
]


@pytest.fixture
def loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A database with the adult records' client of wijkteam-noord and its loading admin."""
    monkeypatch.setenv("WIJKGATEWAY_DATABASE_URL", f"sqlite:///{tmp_path}/import.db")
    monkeypatch.setenv("WIJKGATEWAY_SIGNING_KEY_PATH", str(tmp_path / "key.json"))
    monkeypatch.setenv("WIJKGATEWAY_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("WIJKGATEWAY_ADAPTERS", "gp-referral,menscentraal")
    get_settings.cache_clear()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(app, ["teams", "add", "wijkteam-noord", "--name", "Noord"]).exit_code == 0
    added = runner.invoke(app, ["clients", "add", "Volwassenen", "--team", "wijkteam-noord",
                                "--system", "menscentraal", "--scope",
                                "adapter/menscentraal.write"])
    client_id = json.loads(added.output)["client_id"]
    assert runner.invoke(app, ["clients", "actors", "add", client_id, "beheer-1", "--role",
                               "administrator"]).exit_code == 0
    yield client_id
    get_settings.cache_clear()
    structlog.reset_defaults()  # the command configured logging for its process


def _import(client_id: str, path: Path) -> tuple[int, str, str]:
    result = runner.invoke(app, ["import", "menscentraal", str(path), "--client", client_id,
                                 "--actor", "beheer-1"])
    return result.exit_code, result.stdout, result.stderr


def _counts() -> dict[str, int]:
    sessions = make_sessionmaker(make_engine(get_settings().database_url))
    with sessions() as session:
        return {model.__name__: session.scalar(select(func.count()).select_from(model))
                for model in (Person, HouseholdMember, Involvement)}


def _write(path: Path, lines: list[str], encoding: str = "utf-8-sig") -> Path:
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def test_an_excel_export_goes_in_once(loaded: str, tmp_path: Path) -> None:
    export = _write(tmp_path / "export.csv", [HEADER, *ROWS])
    code, out, err = _import(loaded, export)
    assert (code, out.strip(), err) == (0, "3 rows: 3 in (0 already there), 0 rejected", "")
    assert _counts() == {"Person": 3, "HouseholdMember": 3, "Involvement": 1}
    again = _import(loaded, export)
    assert again[:2] == (0, "3 rows: 3 in (3 already there), 0 rejected\n")
    assert _counts() == {"Person": 3, "HouseholdMember": 3, "Involvement": 1}


def test_the_log_names_the_person_who_loaded(loaded: str, tmp_path: Path) -> None:
    _import(loaded, _write(tmp_path / "export.csv", [HEADER, ROWS[0]]))
    sessions = make_sessionmaker(make_engine(get_settings().database_url))
    with sessions() as session:
        entries = session.scalars(select(ProcessingLogEntry).where(
            ProcessingLogEntry.action == "adapter.message")).all()
    assert entries and {(e.actor_id, e.acting_person) for e in entries} == {(loaded, "beheer-1")}
    assert "acting_person" not in structlog.contextvars.get_contextvars()  # not after it


def test_windows_1252_with_commas_and_a_dropped_leading_zero(loaded: str,
                                                             tmp_path: Path) -> None:
    lines = [HEADER.replace(";", ","),
             f"C-9,{VALID_BSNS[2]},Hélène,Zoë,1990-01-02,,,,,,"]
    code, out, _ = _import(loaded, _write(tmp_path / "export.csv", lines, "cp1252"))
    assert (code, out.strip()) == (0, "1 rows: 1 in (0 already there), 0 rejected")


def test_bad_rows_are_reported_by_line_and_column_and_the_rest_goes_in(
        loaded: str, tmp_path: Path) -> None:
    lines = [HEADER, ROWS[0],
             "C-4;123456789;Jansen;Anna;31-02-1988;;;;;;",
             "C-5;;;;;;H-2;oom;T-5;pedagogiek;2026-01-01",
             "C-6;;;;;;;;;;;extra",
             ROWS[2]]
    code, out, err = _import(loaded, _write(tmp_path / "export.csv", lines))
    assert code == 2
    assert out.strip() == "5 rows: 2 in (0 already there), 3 rejected"
    assert err.splitlines() == [
        "line 3: bsn: not a valid BSN (9 digits passing the elfproef); "
        "geboortedatum: not a valid date",
        "line 4: rol: must be one of ouder, kind, partner, overig",
        "line 5: more cells than the header has columns"]
    assert "123456789" not in err and "Jansen" not in err
    assert _counts()["Person"] == 2


def test_a_row_whose_trajectory_is_bad_goes_in_not_at_all(loaded: str, tmp_path: Path) -> None:
    """The client and its trajectory are one row: the client is not left in without it."""
    row = f"C-7;{VALID_BSNS[3]};;;;;;;T-7;pedagogiek;2026-01-01"
    code, _, err = _import(loaded, _write(tmp_path / "export.csv", [HEADER, row]))
    assert (code, err.strip()) == (2, "line 2: domein: must be one of " + ", ".join(
        ["financien", "werk-en-opleiding", "tijdsbesteding", "huisvesting",
         "huiselijke-relaties", "geestelijke-gezondheid", "lichamelijke-gezondheid",
         "verslaving", "adl", "sociaal-netwerk", "maatschappelijke-participatie", "justitie"]))
    assert _counts()["Person"] == 0


@pytest.mark.parametrize(("content", "message"), [
    (b"", "no header row"),
    (b"clientnr;bsn\r\nC-1;1\r\n", "missing column(s) clientnummer"),
    ("clientnummer;bsn\r\n".encode("utf-16"), "UTF-16"),
    (b"\x00\x01\x02clientnummer", "not a text file"),
])
def test_a_file_that_cannot_be_read_exits_1(loaded: str, tmp_path: Path, content: bytes,
                                            message: str) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    code, _, err = _import(loaded, path)
    assert code == 1 and message in err


def test_a_run_cut_off_halfway_is_finished_by_running_it_again(
        loaded: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [f"C-{n};;Achternaam;Voornaam;2000-01-01;;;;;;" for n in range(10, 30)]
    export = _write(tmp_path / "export.csv", [HEADER, *rows])
    monkeypatch.setattr(imports, "BATCH_ROWS", 4)
    real, calls = bulk._Writes.insert, []

    def crash_in_the_third_batch(writes: bulk._Writes) -> None:
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt  # the process stops mid-batch
        real(writes)

    monkeypatch.setattr(bulk._Writes, "insert", crash_in_the_third_batch)
    assert runner.invoke(app, ["import", "menscentraal", str(export), "--client", loaded,
                               "--actor", "beheer-1"]).exit_code != 0
    assert _counts()["Person"] == 8  # two whole batches, nothing of the third
    monkeypatch.setattr(bulk._Writes, "insert", real)
    code, out, _ = _import(loaded, export)
    assert (code, out.strip()) == (0, "20 rows: 20 in (8 already there), 0 rejected")
    assert _counts()["Person"] == 20


@pytest.mark.parametrize(("options", "message"), [
    (["--client", "nobody", "--actor", "beheer-1"], "no active client"),
    (["--actor", "iemand"], "register it first"),
])
def test_a_wrong_client_or_actor_is_refused(loaded: str, tmp_path: Path, options: list[str],
                                            message: str) -> None:
    export = _write(tmp_path / "export.csv", [HEADER, ROWS[0]])
    args = ["import", "menscentraal", str(export), *options]
    if "--client" not in options:
        args += ["--client", loaded]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and message in result.stderr
