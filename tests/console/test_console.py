"""The privacy officers' console: login, roles, CSRF, bad input, every page and the log entry its
view leaves, the override review, the chain check, the chart, and no personal data in the
operational log. On SQLite and PostgreSQL (the ``client`` fixture)."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta
from html import escape, unescape
from urllib.parse import parse_qsl

import orjson
import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from gateway.api.console import pages
from gateway.api.console.auth import session_options
from gateway.api.console.chart import stacked_bars
from gateway.audit.log import subject_identifier
from gateway.audit.pseudonyms import Pseudonymiser
from gateway.console.service import CHART_WEEKS, WeeklyDisclosures
from gateway.platform.db.models import Officer, OverrideRow, ProcessingLogEntry
from gateway.platform.db.types import utcnow
from gateway.platform.settings import Settings
from tests.conftest import row_counts
from tests.support.auditlog import tamper
from tests.support.console import (
    BSN,
    JUSTIFICATION,
    OFFICER,
    PASSWORD,
    History,
    add_account,
    csrf_token,
    log_in,
    resident_history,
)
from tests.support.samples import VALID_BSNS
from tests.support.webhooks import WebhookReceiver

PAGES = ("/console/entries", "/console/timeline", "/console/overrides", "/console/denied",
         "/console/involvements", "/console/identity", "/console/chain", "/console/chart")
COMMENT = "Terecht: acuut gevaar, de melding kon niet wachten op toestemming."


def _entries(sessions, **where: str) -> list[ProcessingLogEntry]:  # noqa: ANN001
    query = select(ProcessingLogEntry).order_by(ProcessingLogEntry.seq)
    for column, value in where.items():
        query = query.where(getattr(ProcessingLogEntry, column) == value)
    with sessions() as session:
        return list(session.scalars(query))


def _details(entry: ProcessingLogEntry) -> dict:
    return orjson.loads(entry.details) if entry.details else {}


def _pseudonym(settings: Settings, bsn: str = BSN) -> str:
    return Pseudonymiser(settings.pseudonym_key).pseudonym(subject_identifier(bsn))[0]


def _field(response) -> str | None:  # noqa: ANN001
    match = re.search(r'<code class="field">([^<]*)</code>', response.text)
    return match.group(1) if match else None


def _approve_path(history: History) -> str:
    return f"/console/overrides/{history.override_id}/approve"


def _override(sessions, history: History) -> OverrideRow:  # noqa: ANN001
    with sessions() as session:
        row = session.get(OverrideRow, history.override_id)
        assert row is not None
        return row


@pytest.fixture
def officer(sessions) -> str:  # noqa: ANN001
    return add_account(sessions)


@pytest.fixture
def console(client: TestClient, officer: str) -> TestClient:
    assert log_in(client).status_code == 303
    return client


@pytest.fixture
def history(client: TestClient, receiver: WebhookReceiver) -> History:
    return resident_history(client, receiver.url)


class TestLogin:
    def test_the_right_password_starts_a_session_and_is_logged(self, client: TestClient,
                                                               officer: str, sessions) -> None:  # noqa: ANN001
        response = log_in(client)
        assert (response.status_code, response.headers["location"]) == (303, "/console/entries")
        cookie = response.headers["set-cookie"].lower()
        for flag in ("wijkgateway_console=", "path=/console", "httponly", "samesite=strict"):
            assert flag in cookie
        assert "secure" not in cookie  # only in production, behind https
        [entry] = _entries(sessions, kind="login")
        assert (entry.action, entry.outcome, entry.actor_type, entry.actor_id, entry.details) == (
            "console.login", "ok", "officer", OFFICER, None)
        assert client.get("/console/entries").status_code == 200

    @pytest.mark.parametrize("username,password,reason", [
        (OFFICER, "not the password", "wrong password"),
        ("nobody", PASSWORD, "unknown account"),
        ("retired", PASSWORD, "account disabled"),
    ])
    def test_refused_logins_are_logged(self, client: TestClient, officer: str, sessions,  # noqa: ANN001
                                       username: str, password: str, reason: str) -> None:
        add_account(sessions, "retired")
        with sessions.begin() as session:
            session.execute(update(Officer).where(Officer.username == "retired")
                            .values(disabled_at=utcnow()))
        response = log_in(client, username, password)
        assert response.status_code == 401
        assert "Gebruikersnaam of wachtwoord onjuist" in response.text
        [entry] = _entries(sessions, kind="login")
        assert (entry.action, entry.outcome, entry.actor_type, entry.actor_id, _details(entry)) == (
            "console.login", "denied", "officer", username, {"reason": reason})
        assert client.get("/console/entries", follow_redirects=False).headers["location"] == \
            "/console/login"

    def test_repeated_failures_lock_the_account_for_a_while(
            self, client: TestClient, officer: str, sessions) -> None:  # noqa: ANN001
        started = datetime.now(UTC)
        with time_machine.travel(started, tick=False):
            for _ in range(5):
                assert log_in(client, OFFICER, "not the password").status_code == 401
            locked = log_in(client)  # even the right password is not checked now
            assert (locked.status_code, locked.headers["retry-after"]) == (429, "900")
            assert "try again in 15 minutes" in locked.text
            assert log_in(client, "someone-else").status_code == 401  # per account
        last = _entries(sessions, kind="login")[-2]
        assert (last.outcome, _details(last)) == ("denied",
                                                 {"reason": "locked: too many failed attempts"})
        with time_machine.travel(started + timedelta(minutes=10), tick=False):
            assert log_in(client).headers["retry-after"] == "300"
        with time_machine.travel(started + timedelta(minutes=16)):
            assert log_in(client).status_code == 303

    def test_another_role_logs_in_but_every_page_is_refused_and_logged(
            self, client: TestClient, sessions, history: History) -> None:  # noqa: ANN001
        add_account(sessions, "helpdesk", role="support")
        assert log_in(client, "helpdesk").status_code == 303
        for path in PAGES:
            response = client.get(path)
            assert response.status_code == 403, path
            assert "privacy officers" in response.text
        token = csrf_token(client.get("/console/login").text)
        refused = client.post(_approve_path(history), data={"csrf_token": token,
                                                            "comment": COMMENT})
        assert refused.status_code == 403
        assert _override(sessions, history).review_status == "pending"
        denials = _entries(sessions, action="console.access_refused")
        assert [(d.kind, d.outcome, d.actor_id, _details(d)) for d in denials] == [
            ("denial", "denied", "helpdesk", {"path": path, "reason": "role support"})
            for path in (*PAGES, _approve_path(history))]
        assert _entries(sessions, kind="view") == []

    def test_a_disabled_account_is_sent_to_the_login_form(self, console: TestClient,
                                                          sessions) -> None:  # noqa: ANN001
        with sessions.begin() as session:
            session.execute(update(Officer).values(disabled_at=utcnow()))
        response = console.get("/console/chart", follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, "/console/login")
        [denial] = _entries(sessions, kind="denial")
        assert (denial.actor_id, _details(denial)) == (
            OFFICER, {"path": "/console/chart", "reason": "account disabled"})
        console.get("/console/chart", follow_redirects=False)
        assert len(_entries(sessions, kind="denial")) == 1  # the session was ended

    def test_logout_ends_the_session_and_is_logged(self, console: TestClient,
                                                   sessions) -> None:  # noqa: ANN001
        token = csrf_token(console.get("/console/entries").text)
        response = console.post("/console/logout", data={"csrf_token": token},
                                follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, "/console/login")
        assert console.get("/console/entries", follow_redirects=False).status_code == 303
        [logout] = _entries(sessions, action="console.logout")
        assert (logout.kind, logout.actor_id) == ("login", OFFICER)

    def test_the_cookie_is_https_only_in_production(self) -> None:
        options = session_options(Settings(environment="production", secret_key="s" * 40,
                                           pseudonym_key="p" * 40))
        assert (options["https_only"], options["same_site"], options["path"]) == (
            True, "strict", "/console")
        assert options["secret_key"] != "s" * 40  # derived, so it signs nothing else


class TestCsrf:
    @pytest.mark.parametrize("token", [None, "forged-token"])
    @pytest.mark.parametrize("form", ["login", "logout", "approve", "verify"])
    def test_a_form_without_the_sessions_token_is_refused_and_changes_nothing(
            self, console: TestClient, history: History, sessions, form: str,  # noqa: ANN001
            token: str | None) -> None:
        path, data = {
            "login": ("/console/login", {"username": OFFICER, "password": PASSWORD}),
            "logout": ("/console/logout", {}),
            "approve": (_approve_path(history), {"comment": COMMENT}),
            "verify": ("/console/chain/verify", {}),
        }[form]
        before = row_counts(sessions)
        response = console.post(path, data={**data, **({"csrf_token": token} if token else {})},
                                follow_redirects=False)
        assert response.status_code == 403
        assert "did not come from the console" in response.text
        assert row_counts(sessions) == {**before, "processing_log": before["processing_log"] + 1}
        [denial] = _entries(sessions, action="console.csrf_refused")
        assert (denial.kind, denial.outcome, denial.actor_id, _details(denial)) == (
            "denial", "denied", OFFICER, {"path": path})
        assert _override(sessions, history).review_status == "pending"
        assert console.get("/console/entries").status_code == 200  # still logged in

    def test_the_login_form_needs_the_token_of_its_own_session(self, client: TestClient,
                                                               officer: str) -> None:
        token = csrf_token(client.get("/console/login").text)
        client.cookies.clear()  # another browser: a token copied from elsewhere
        response = client.post("/console/login", data={
            "username": OFFICER, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 403


class TestBadInput:
    @pytest.mark.parametrize("query,field", [
        ("subject=111222333' OR '1'='1", "subject"),
        ("activity=x'; DROP TABLE processing_log; --", "activity"),
        ("recipient=' OR 1=1 --", "recipient"),
        ("kind=view' OR 'a'='a", "kind"),
        ("outcome=ok) UNION SELECT password_hash FROM officers --", "outcome"),
        ("from=2024-01-01' OR '1'='1", "from"),
        ("to=2024-01-01;DELETE FROM officers", "to"),
        ("subject[$ne]=1", "subject[$ne]"),
        ("from=0001-01-01&to=9999-12-31", "from"),  # everything ever: refused, not scanned
        ("from=2000-01-01&to=2999-12-31", "to"),
        ("from=2025-02-01&to=2025-01-01", "to"),
        ("page=0", "page"),
        ("page=99999999999999999999", "page"),
        ("kind=view&kind=read", ""),
    ])
    def test_bad_search_parameters_get_a_400_page_naming_the_field(
            self, console: TestClient, sessions, query: str, field: str) -> None:  # noqa: ANN001
        before = row_counts(sessions)
        response = console.get("/console/entries", params=parse_qsl(query))
        assert response.status_code == 400
        assert response.headers["content-type"].startswith("text/html")
        assert _field(response) == (escape(field) if field else None)
        assert row_counts(sessions) == before  # nothing ran, nothing was logged as viewed

    @pytest.mark.parametrize("bsn", ["123456789", "1' OR '1'='1", "11122233"])
    def test_a_timeline_needs_a_bsn(self, console: TestClient, bsn: str) -> None:
        response = console.get("/console/timeline", params={"bsn": bsn})
        assert (response.status_code, _field(response)) == (400, "bsn")

    def test_approving_an_unknown_override_is_404(self, console: TestClient) -> None:
        token = csrf_token(console.get("/console/overrides").text)
        response = console.post("/console/overrides/nope/approve",
                                data={"csrf_token": token, "comment": COMMENT})
        assert (response.status_code, _field(response)) == (404, "override")


class TestPages:
    def test_every_page_renders_without_script_and_is_kept_out_of_caches_and_frames(
            self, console: TestClient, history: History) -> None:
        for path in PAGES:
            response = console.get(path)
            assert response.status_code == 200, path
            assert "<script" not in response.text
            assert response.headers["content-security-policy"].startswith("default-src 'none'")
            assert (response.headers["cache-control"], response.headers["x-frame-options"],
                    response.headers["referrer-policy"]) == ("no-store", "DENY", "no-referrer")

    def test_searching_a_person_is_logged_with_their_pseudonym(
            self, console: TestClient, history: History, sessions, settings: Settings) -> None:  # noqa: ANN001
        response = console.get("/console/entries", params={
            "subject": BSN, "activity": "", "kind": "", "outcome": "", "from": "", "to": ""})
        assert response.status_code == 200
        for action in ("referral.received", "delivery.permitted", "delivery.withheld"):
            assert action in response.text
        assert f'href="/console/timeline?bsn={BSN}"' in response.text
        [view] = _entries(sessions, kind="view")
        assert (view.action, view.actor_type, view.actor_id, view.subject, _details(view)) == (
            "console.entries.viewed", "officer", OFFICER, _pseudonym(settings), {"page": 1})

    def test_results_come_in_pages_that_keep_the_filters(
            self, console: TestClient, history: History, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(pages, "PAGE_SIZE", 2)
        first = console.get("/console/entries", params={"subject": BSN, "kind": "", "page": ""})
        total, last = map(int, re.search(r"(\d+) regels, pagina 1 van (\d+)", first.text).groups())
        assert (last, 'rel="prev"' in first.text) == (-(-total // 2), False)
        link = unescape(re.search(r'href="([^"]+)" rel="next"', first.text).group(1))
        assert link == f"/console/entries?subject={BSN}&page=2"
        second = console.get(link)
        assert re.search(r"pagina 2 van \d+", second.text)  # the first look added an entry
        assert len(re.findall(r"<tr>\s*<td>\d+</td>", second.text)) == 2
        assert 'rel="prev"' in second.text

    def test_the_timeline_shows_consents_revocations_disclosures_and_overrides_in_order(
            self, console: TestClient, history: History, sessions, settings: Settings) -> None:  # noqa: ANN001
        response = console.get("/console/timeline", params={"bsn": BSN})
        assert response.status_code == 200
        kinds = re.findall(r'<tr class="event-(\w+)">', response.text)
        wanted = ["consent", "disclosure", "revocation", "denial", "override"]
        positions = [kinds.index(kind) for kind in wanted]
        assert positions == sorted(positions), kinds
        assert f"Consent/{history.consent_id} version 2" in response.text
        [view] = _entries(sessions, kind="view")
        assert (view.action, view.actor_id, view.subject) == (
            "console.timeline.viewed", OFFICER, _pseudonym(settings))

    def test_a_timeline_of_someone_unknown_is_empty_and_still_logged(
            self, console: TestClient, sessions, settings: Settings) -> None:  # noqa: ANN001
        response = console.get("/console/timeline", params={"bsn": VALID_BSNS[3]})
        assert "Niets gevonden" in response.text
        [view] = _entries(sessions, kind="view")
        assert view.subject == _pseudonym(settings, VALID_BSNS[3])

    def test_overrides_awaiting_review_are_shown_and_the_look_is_logged_per_person(
            self, console: TestClient, history: History, sessions, settings: Settings) -> None:  # noqa: ANN001
        response = console.get("/console/overrides")
        assert JUSTIFICATION in response.text
        assert f"BSN {BSN}" in response.text
        [view] = _entries(sessions, kind="view")
        assert (view.action, view.subject, _details(view)) == (
            "console.overrides.viewed", _pseudonym(settings), {"rows": [history.override_id]})

    def test_approving_an_override_records_the_review(
            self, console: TestClient, history: History, sessions, settings: Settings) -> None:  # noqa: ANN001
        token = csrf_token(console.get("/console/overrides").text)
        response = console.post(_approve_path(history), data={
            "csrf_token": token, "comment": f"  {COMMENT}\n"}, follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, "/console/overrides")
        row = _override(sessions, history)
        assert (row.review_status, row.reviewed_by, row.review_comment) == (
            "approved", OFFICER, COMMENT)
        assert row.reviewed_at is not None
        [review] = _entries(sessions, kind="review")
        assert (review.action, review.actor_type, review.actor_id, review.subject,
                review.activity_id, _details(review)) == (
            "override.approved", "officer", OFFICER, _pseudonym(settings),
            "report-to-veilig-thuis", {"override": history.override_id, "meldcode_step": 5})
        assert "Er zijn geen overrides" in console.get("/console/overrides").text
        logged = console.get("/console/entries", params={"kind": "review"})
        assert "override.approved" in logged.text and OFFICER in logged.text
        again = console.post(_approve_path(history), data={"csrf_token": token,
                                                           "comment": COMMENT})
        assert (again.status_code, _field(again)) == (409, "override")

    @pytest.mark.parametrize("comment", [None, "", "   \n  ", "x" * 4001])
    def test_approving_needs_a_comment(self, console: TestClient, history: History, sessions,  # noqa: ANN001
                                       comment: str | None) -> None:
        token = csrf_token(console.get("/console/overrides").text)
        before = row_counts(sessions)
        response = console.post(_approve_path(history), data={
            "csrf_token": token, **({"comment": comment} if comment is not None else {})})
        assert (response.status_code, _field(response)) == (400, "comment")
        assert _override(sessions, history).review_status == "pending"
        assert row_counts(sessions) == before

    def test_denied_requests(self, console: TestClient, history: History,
                             sessions) -> None:  # noqa: ANN001
        response = console.get("/console/denied")
        assert "delivery.withheld" in response.text
        assert "delivery.permitted" not in response.text
        [view] = _entries(sessions, kind="view")
        assert (view.action, view.subject, _details(view)) == (
            "console.denied.viewed", None, {"page": 1})

    def test_chain_status_and_a_verification_from_the_console(
            self, console: TestClient, history: History, sessions) -> None:  # noqa: ANN001
        before = _entries(sessions)
        page = console.get("/console/chain").text
        assert "nog nooit" in page
        assert f'<dd id="entry-count">{len(before)}</dd>' in page
        assert f'<span class="hash" id="head-hash">{before[-1].hash}</span>' in page
        token = csrf_token(page)
        response = console.post("/console/chain/verify", data={"csrf_token": token},
                                follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, "/console/chain")
        [verify] = _entries(sessions, kind="verify")
        assert (verify.action, verify.outcome, verify.actor_type, verify.actor_id) == (
            "processing_log.verified", "ok", "officer", OFFICER)
        assert _details(verify) == {"entries": len(before) + 1, "last_seq": before[-1].seq + 1,
                                    "head_hash": _entries(sessions)[-2].hash, "problem": None}
        assert '<strong class="ok" id="verification-outcome">intact</strong>' in \
            console.get("/console/chain").text

    def test_a_tampered_chain_shows_as_broken(self, console: TestClient, history: History,
                                              sessions, admin_url: str) -> None:  # noqa: ANN001
        tamper(admin_url, "UPDATE processing_log SET recipient = 'elsewhere' WHERE seq = 3")
        token = csrf_token(console.get("/console/chain").text)
        console.post("/console/chain/verify", data={"csrf_token": token})
        page = console.get("/console/chain").text
        assert "NIET intact" in page
        assert "entry 3 (" in page and "was changed" in page

    def test_the_chart_counts_disclosures_per_activity_this_week(
            self, console: TestClient, history: History, sessions) -> None:  # noqa: ANN001
        page = console.get("/console/chart").text
        monday = date.fromordinal(date.today().toordinal() - date.today().weekday())
        assert f"<title>gp-referral-to-wijkteam, week of {monday.isoformat()}: 1</title>" in page
        assert page.count("<rect x=") == 1
        [view] = _entries(sessions, kind="view")
        assert (view.action, view.subject) == ("console.chart.viewed", None)


class TestChart:
    def test_bars_stack_per_week_and_scale_to_a_round_maximum(self) -> None:
        weeks = [date(2026, 1, 5) + timedelta(weeks=w) for w in range(CHART_WEEKS)]
        counts = {"casusoverleg": [0] * CHART_WEEKS, "gp-referral-to-wijkteam": [0] * CHART_WEEKS}
        counts["casusoverleg"][0], counts["gp-referral-to-wijkteam"][0] = 3, 5
        counts["gp-referral-to-wijkteam"][11] = 4
        chart = stacked_bars(WeeklyDisclosures(weeks, counts))
        assert [t.label for t in chart.counts] == ["0", "2", "4", "6", "8"]
        first, second, last = chart.bars
        assert (first.colour, second.colour) == ("#0072B2", "#E69F00")
        assert first.y + first.height == chart.baseline  # stacked from the baseline up
        assert second.y + second.height == pytest.approx(first.y, abs=0.1)
        assert second.height / first.height == pytest.approx(5 / 3, rel=0.01)
        assert last.height == pytest.approx(second.height * 4 / 5, rel=0.01)
        assert chart.weeks[0].label == "wk 2"
        assert chart.legend == [("casusoverleg", "#0072B2"), ("gp-referral-to-wijkteam", "#E69F00")]

    def test_no_disclosures_draw_no_bars(self) -> None:
        chart = stacked_bars(WeeklyDisclosures([date(2026, 1, 5)] * CHART_WEEKS, {}))
        assert (chart.bars, chart.legend, chart.counts[-1].label) == ([], [], "4")


def test_no_bsn_justification_comment_or_password_in_the_operational_log(
        console: TestClient, history: History, log_stream: io.StringIO) -> None:
    console.get("/console/entries", params={"subject": BSN})
    console.get("/console/timeline", params={"bsn": BSN})
    console.get("/console/entries", params={"subject": "111222333' OR 1=1"})
    token = csrf_token(console.get("/console/overrides").text)
    console.post(_approve_path(history), data={"csrf_token": token, "comment": COMMENT})
    console.post("/console/login", data={"csrf_token": token, "username": OFFICER,
                                         "password": "a wrong password 123456789"})
    written = log_stream.getvalue()
    assert '"route":"/console/timeline"' in written  # the page was logged, by its template
    for secret in (BSN, JUSTIFICATION, COMMENT, PASSWORD, "a wrong password", OFFICER):
        assert secret not in written
