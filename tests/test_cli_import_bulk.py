"""The import's short way (``gateway.pipeline.bulk``) ends where the long way ends: the same
file loaded with every row through ``receive_message`` and loaded the short way leaves the
same persons, households and their versions, involvements, answers and processing-log
entries (ids aside, which are random), across batches, with rows the short way leaves to the
long way among them, and a bad row in the middle of a batch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from adapters import get_adapter
from adapters.menscentraal import csv_rows
from gateway.audit.log import audit_context
from gateway.audit.verify import verify_database
from gateway.cli import app, imports
from gateway.cli._common import sessions
from gateway.pipeline import bulk, idempotency
from gateway.pipeline.messages import REPLAYED, Answer, receive_message
from gateway.platform.db.engine import make_engine
from gateway.platform.db.models import InboundMessage
from gateway.platform.errors import Unprocessable
from gateway.platform.settings import get_settings
from tests.support.samples import VALID_BSNS
from tests.test_cli_import import HEADER, _import, _write, loaded, runner  # noqa: F401

HEADER_CLOSED = HEADER + ";trajecteinde"
ROWS = [
    f"C-1;{VALID_BSNS[0]};Jansen;Anna;04-03-1988;1234 ab;H-1;ouder;T-1;financien;01-06-2026;",
    f"C-2;{VALID_BSNS[1]};Jansen;Piet;1986-07-01;1234AB;H-1;partner;;;;",
    "C-3;;Bakker;Sem;2019-05-06;1234AB;H-1;kind;T-3;adl;2026-01-01;2026-02-01",
    "C-4;123456789;Jansen;Anna;31-02-1988;;;;;;;",  # bad: BSN and date, mid-batch
    "C-5;;de Vries;Els;2001-01-01;5678CD;H-2;ouder;T-5;verslaving;2026-03-01;",
    "C-6;;Vries;Eva;2001-01-01;5678CD;H-2;kind;;;;",  # a look-alike of C-5: reviewed
    f"C-7;{VALID_BSNS[2]};Smit;Jan;1970-10-10;;H-1;overig;;;;",  # joins H-1 a batch later
    f"C-7;{VALID_BSNS[2]};Smit;Jan;1970-10-10;;H-1;overig;;;;",  # the same row twice
    f"C-1;{VALID_BSNS[0]};Jansen-Bos;Anna;04-03-1988;1234 ab;H-1;ouder;T-8;werk-en-opleiding;"
    "2026-04-01;",  # a later export's row of a known client: the long way
    f"C-9;{VALID_BSNS[3]};Bos;Ida;1950-05-05;9999ZZ;;;;;;",
]
REPORT = ["line 5: bsn: not a valid BSN (9 digits passing the elfproef); "
          "geboortedatum: not a valid date"]


def _long_way_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk._Plan, "route", lambda plan, row: None)


@pytest.mark.parametrize("batch", [3, 500])
def test_the_short_way_ends_where_the_long_way_ends(
        loaded: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
        batch: int) -> None:
    monkeypatch.setattr(imports, "BATCH_ROWS", batch)
    real, long_way = bulk._long_way, []

    def spied(session: Any, caller: Any, adapter: Any, row: bulk.Row, depth: int) -> Any:
        long_way.append(row.line)
        return real(session, caller, adapter, row, depth)

    monkeypatch.setattr(bulk, "_long_way", spied)
    export = _write(tmp_path / "export.csv", [HEADER_CLOSED, *ROWS])
    code, out, err = _import(loaded, export)
    assert (code, out.strip(), err.splitlines()) == (
        2, "10 rows: 9 in (1 already there), 1 rejected", REPORT)
    assert long_way == [7, 10]  # the look-alike and the known client; the rest the short way
    short = _state()
    _import(loaded, export)
    assert _state() == short  # a second run changes nothing
    _empty()
    _long_way_only(monkeypatch)
    assert _import(loaded, export)[:2] == (2, "10 rows: 9 in (1 already there), 1 rejected\n")
    assert _state() == short
    assert short["reviews"] == [("probable-match", "local:C-6", "local:C-5")]
    assert [row[0] for row in short["households"]] == [
        (2, ["local:C-5", "local:C-6"]), (4, ["bsn:" + VALID_BSNS[0], "bsn:" + VALID_BSNS[1],
                                              "local:C-3", "bsn:" + VALID_BSNS[2]])]


def test_the_log_verifies_after_a_short_load(loaded: str, tmp_path: Path) -> None:  # noqa: F811
    _import(loaded, _write(tmp_path / "export.csv", [HEADER_CLOSED, *ROWS]))
    settings = get_settings()
    from gateway.api.processing_activities import load_register

    result = verify_database(settings.database_url, audit_context(settings, load_register()))
    assert result.ok, result


TABLES = ("persons", "person_identifiers", "households", "household_identifiers",
          "household_members", "involvements", "inbound_messages", "resource_versions",
          "identity_reviews", "processing_log")


def _empty() -> None:
    with make_engine(get_settings().database_url).begin() as connection:
        for table in reversed(TABLES):
            connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608 (names above)
        connection.execute(text("DELETE FROM processing_log_checkpoints"))


def _state() -> dict[str, Any]:
    """What the database holds, each random id replaced by what names it for good: a person
    by BSN or local id, a household by its members, an involvement by its case, a review by
    its person."""
    with make_engine(get_settings().database_url).connect() as connection:
        rows = {table: [dict(r) for r in connection.execute(
            select(text("*")).select_from(text(table))).mappings()] for table in TABLES}
    names = {p["id"]: f"bsn:{p['bsn']}" for p in rows["persons"] if p["bsn"]}
    names |= {i["person_id"]: f"local:{i['value']}" for i in rows["person_identifiers"]
              if i["person_id"] not in names}
    members: dict[str, list[Any]] = {}
    for m in sorted(rows["household_members"], key=lambda m: m["position"]):
        members.setdefault(m["household_id"], []).append(names[m["person_id"]])
    names |= {h: f"household:{'+'.join(m)}" for h, m in members.items()}
    names |= {i["id"]: f"case:{names[i['person_id']]}/{i['source_ref']}"
              for i in rows["involvements"]}
    names |= {r["id"]: f"review:{names[r['person_id']]}" for r in rows["identity_reviews"]}

    def named(value: Any) -> Any:
        if isinstance(value, str):
            for key, name in names.items():
                value = value.replace(key, name)
            return value
        return value

    def plain(document: Any) -> Any:
        return orjson.loads(named(orjson.dumps(orjson.loads(document) if isinstance(
            document, str) else document).decode()))

    return {
        "persons": sorted((names[p["id"]], p["birth_date"], p["match_key"])
                          for p in rows["persons"]),
        "households": sorted(((h["version_id"], members[h["id"]]), h["client_id"])
                             for h in rows["households"]),
        "household_ids": sorted((i["value"], names[i["household_id"]])
                                for i in rows["household_identifiers"]),
        "members": sorted((names[m["person_id"]], m["role"], m["position"],
                           m["period_start"], m["period_end"])
                          for m in rows["household_members"]),
        "involvements": sorted((names[i["id"]], i["organization"], i["source"],
                                i["started_at"], i["ended_at"], i["sensitivity"])
                               for i in rows["involvements"]),
        "answers": sorted((m["message_id"], m["kind"], m["request_hash"], m["status_code"],
                           orjson.dumps(plain(m["outcome"])))
                          for m in rows["inbound_messages"]),
        "versions": sorted((names[v["resource_id"]], v["version_id"],
                            orjson.dumps({**plain(v["resource"]), "meta": None}))
                           for v in rows["resource_versions"]),
        "reviews": sorted((r["kind"], names[r["person_id"]], names.get(r["candidate_id"]))
                          for r in rows["identity_reviews"]),
        "log": [(e["seq"], e["kind"], e["action"], e["actor_id"], e["acting_person"],
                 e["sender"], e["subject"], e["categories"], plain(e["details"])
                 if e["details"] else None)
                for e in sorted(rows["processing_log"], key=lambda e: e["seq"])],
    }


def test_a_batch_the_database_refuses_goes_in_row_by_row(
        loaded: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    export = _write(tmp_path / "export.csv", [HEADER_CLOSED, *ROWS])
    _import(loaded, export)
    expected = _state()
    _empty()
    real, calls = bulk._Writes.insert, []

    def refused_once(writes: bulk._Writes) -> None:
        calls.append(1)
        if len(calls) == 1:  # as a writer at the same time would make it
            raise IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed"))
        real(writes)

    monkeypatch.setattr(bulk._Writes, "insert", refused_once)
    assert _import(loaded, export)[:2] == (2, "10 rows: 9 in (1 already there), 1 rejected\n")
    assert _state() == expected


def test_a_row_refused_on_the_long_way_keeps_the_log_of_the_rows_before_it(
        loaded: str, tmp_path: Path) -> None:  # noqa: F811
    added = runner.invoke(app, ["clients", "add", "Anders", "--team", "wijkteam-noord",
                                "--system", "menscentraal", "--scope",
                                "adapter/menscentraal.write"])
    other = orjson.loads(added.output)["client_id"]
    assert runner.invoke(app, ["clients", "actors", "add", other, "beheer-2", "--role",
                               "administrator"]).exit_code == 0
    held = f"C-50;{VALID_BSNS[3]};;;;;H-9;ouder;;;;"
    assert runner.invoke(app, ["import", "menscentraal", str(_write(
        tmp_path / "other.csv", [HEADER_CLOSED, held])), "--client", other, "--actor",
        "beheer-2"]).exit_code == 0
    rows = [ROWS[0], "C-51;;;;;;H-9;ouder;;;;", ROWS[1]]  # H-9 is the other system's
    code, out, err = _import(loaded, _write(tmp_path / "export.csv", [HEADER_CLOSED, *rows]))
    assert (code, out.strip()) == (2, "3 rows: 2 in (0 already there), 1 rejected")
    assert err.startswith("line 3: ")
    messages = [e for e in _state()["log"] if e[2] == "adapter.message" and e[3] == loaded]
    assert len(messages) == 3  # C-1's client and trajectory, C-2's client


def _documents(line: str) -> list[dict[str, Any]]:
    """The messages the import makes of one of ``ROWS``."""
    return csv_rows.messages(dict(zip(HEADER_CLOSED.split(";"), line.split(";"), strict=True)))


def _reversed(document: Any) -> Any:
    """The same JSON with every object's keys the other way round."""
    if isinstance(document, dict):
        return {key: _reversed(document[key]) for key in reversed(document)}
    return document


def _sent_over_http(client_id: str, document: dict[str, Any]) -> Answer:
    """A message the system sends itself, written its own way (other key order, indented)."""
    config = get_settings()
    made = sessions(config)
    caller = imports._caller(made, client_id, "beheer-1", "administrator")
    body = json.dumps(_reversed(document), indent=2).encode()
    with made.begin() as session:
        return receive_message(session, caller, get_adapter("menscentraal"), body,
                               config.max_json_depth)


def test_a_loaded_row_sent_again_over_http_is_a_replay(loaded: str, tmp_path: Path) -> None:  # noqa: F811
    """The short way stores the digest the long way takes (of what a message says), so the
    system sending a loaded client again gets the load's answers, and changes nothing; the
    same id with other content is refused."""
    _import(loaded, _write(tmp_path / "export.csv", [HEADER_CLOSED, ROWS[0]]))
    before = _state()
    documents = _documents(ROWS[0])
    answers = [_sent_over_http(loaded, document) for document in documents]
    assert [a.status_code for a in answers] == [REPLAYED, REPLAYED]
    assert [a.outcome["kind"] for a in answers] == ["register-household", "open-case"]
    assert _state() == before
    other = {**documents[0], "client": {**documents[0]["client"], "achternaam": "Bos"}}
    with pytest.raises(Unprocessable, match="used for a different message"):
        _sent_over_http(loaded, other)


def test_rows_loaded_by_an_older_gateway_are_recognised(loaded: str, tmp_path: Path) -> None:  # noqa: F811
    """Gateways up to 0.1.0 stored each message's body digest: a second run finds every row
    in (the long way compares the older digest), over HTTP it is a replay, and nothing
    changes."""
    export = _write(tmp_path / "export.csv", [HEADER_CLOSED, *ROWS])
    _import(loaded, export)
    with make_engine(get_settings().database_url).begin() as connection:
        for document in (d for line in ROWS for d in _documents(line)):
            connection.execute(update(InboundMessage).where(
                InboundMessage.message_id == document["berichtId"]).values(
                request_hash=idempotency.body_digest(orjson.dumps(document))))
    before = _state()
    assert _import(loaded, export)[:2] == (2, "10 rows: 9 in (9 already there), 1 rejected\n")
    assert _sent_over_http(loaded, _documents(ROWS[0])[0]).status_code == REPLAYED
    assert _state() == before
