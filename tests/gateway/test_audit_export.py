"""The processing log's CSV export streams: pages of bounded size read by ``seq``, the same rows
the one-query export gave, and other requests go on while an export is between pages. On
SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, Row, Select, select

from gateway.app import create_app
from gateway.audit.leaves import tree_size
from gateway.oversight import export
from gateway.oversight.queries import EntryFilter, entries_query
from gateway.platform.db.models import ProcessingLogEntry
from gateway.platform.settings import Settings
from tests.conftest import bearer
from tests.support.samples import service_request
from tests.support.server import LiveServer

PAGE = 4
WAIT_S = 30


@pytest.fixture
def officer(client: TestClient) -> dict[str, str]:
    return bearer(client, "demo-privacy-officer")


@pytest.fixture
def entries(client: TestClient, officer: dict[str, str], sessions) -> int:  # noqa: ANN001
    """A log of some pages: each search is itself logged as a read."""
    for _ in range(4 * PAGE + 1):
        assert client.get("/audit/entries", headers=officer).status_code == 200
    with sessions() as session:
        return tree_size(session.connection())


@pytest.fixture
def page_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The rows each page read returned, in order."""
    sizes: list[int] = []
    real = export.read_page

    def counted(reader: Engine, query: Select[Any]) -> Sequence[Row[Any]]:
        rows = real(reader, query)
        sizes.append(len(rows))
        return rows

    monkeypatch.setattr(export, "PAGE_SIZE", PAGE)
    monkeypatch.setattr(export, "read_page", counted)
    return sizes


def _one_query_export(sessions, where: EntryFilter, head: int) -> str:  # noqa: ANN001
    """What the export gave when it loaded every row at once."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(export.CSV_COLUMNS)
    with sessions() as session:
        for row in session.scalars(entries_query(where).where(ProcessingLogEntry.seq <= head)):
            writer.writerow([getattr(row, c) for c in export.CSV_COLUMNS])
    return buffer.getvalue()


@pytest.mark.parametrize("query,where", [("", EntryFilter()),
                                         ("?kind=read", EntryFilter(kind="read"))])
def test_pages_are_bounded_and_the_rows_are_those_of_one_query(
        client: TestClient, officer: dict[str, str], entries: int, page_sizes: list[int],
        sessions, query: str, where: EntryFilter) -> None:  # noqa: ANN001
    expected = _one_query_export(sessions, where, entries)
    response = client.get(f"/audit/entries.csv{query}", headers=officer)
    assert (response.status_code, response.headers["content-type"]) == (
        200, "text/csv; charset=utf-8")
    assert response.text.replace("\r\n", "\n") == expected.replace("\r\n", "\n")
    rows = len(expected.splitlines()) - 1
    full, rest = divmod(rows, PAGE)
    assert page_sizes == [PAGE] * full + [rest]  # the last page, shorter, ends it
    with sessions() as session:
        [logged] = session.scalars(select(ProcessingLogEntry).where(
            ProcessingLogEntry.action == "audit.entries.exported"))
    assert logged.seq == entries + 1  # logged before streaming, and not in its own export


def test_a_referral_completes_while_an_export_waits_between_pages(
        client: TestClient, officer: dict[str, str], gp: dict[str, str], entries: int,
        page_sizes: list[int], settings: Settings, sessions,  # noqa: ANN001
        monkeypatch: pytest.MonkeyPatch) -> None:
    paused, go_on = threading.Event(), threading.Event()
    counted = export.read_page

    def pausing(reader: Engine, query: Select[Any]) -> Sequence[Row[Any]]:
        if len(page_sizes) == 1:  # the first page is out; hold the second
            paused.set()
            assert go_on.wait(WAIT_S)
        return counted(reader, query)

    monkeypatch.setattr(export, "read_page", pausing)
    expected = _one_query_export(sessions, EntryFilter(), entries)
    with LiveServer(create_app(settings, configure_logs=False)) as server, \
            ThreadPoolExecutor(1) as pool:
        exporting = pool.submit(_download, server.url, officer)
        assert paused.wait(WAIT_S)
        with httpx.Client(base_url=server.url, timeout=WAIT_S) as api:
            referral = api.post("/fhir/ServiceRequest", headers=gp, json=service_request())
        assert referral.status_code == 201, referral.text
        assert (exporting.done(), page_sizes) == (False, [PAGE])
        go_on.set()
        exported = exporting.result(timeout=WAIT_S)
    assert exported.replace("\r\n", "\n") == expected.replace("\r\n", "\n")


def _download(url: str, headers: dict[str, str]) -> str:
    with httpx.Client(base_url=url, timeout=WAIT_S) as api, \
            api.stream("GET", "/audit/entries.csv", headers=headers) as response:
        assert response.status_code == 200
        return "".join(response.iter_text())
